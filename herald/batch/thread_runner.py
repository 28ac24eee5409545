"""A `SampleRunner` over the sync `AIAgent`: one agent per attempt, in a daemon thread.

Agents are cheap to build and hold no shared state, so every attempt gets its own (own
working directory, own interrupt). The event loop only waits: at the deadline it
interrupts the agent, which stops its call in flight within milliseconds, and takes the
partial conversation if it comes back in time. A thread that never comes back (a tool
stuck in the kernel) is a daemon: it is abandoned, and cannot keep the process alive.
"""

from __future__ import annotations

import asyncio
import threading
import time

from herald.batch.agent import AgentConfig, BatchAgent, Signals, run_attempt
from herald.batch.jobs import Job, Outcome, crash, failure
from herald.batch.runner import time_limit_message

PARTIAL_GRACE = 1.0  # seconds an interrupted attempt has to hand back its partial history
CLOSE_GRACE = 3.0  # seconds `aclose` waits for stopped attempts' threads to end


class ThreadRunner:
    """Runs each attempt with a fresh `BatchAgent` in its own daemon thread."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self._threads: set[threading.Thread] = set()

    async def run(self, job: Job, *, deadline: float, signals: Signals) -> Outcome:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Outcome] = loop.create_future()
        holder: list[BatchAgent] = []
        stop = threading.Event()  # set when the attempt must end now

        def deliver(outcome: Outcome) -> None:
            if not done.done():
                done.set_result(outcome)

        def work() -> None:
            try:
                agent = BatchAgent(self.config, self.config.cwd_for(job), _LoopSignals(loop, signals))
                holder.append(agent)
                if stop.is_set():  # stopped while the agent was being built
                    agent.interrupt()
                outcome = run_attempt(self.config, job, agent)
            except Exception as error:  # e.g. a bad base URL: this attempt fails, not the batch
                outcome = crash(job, error)
            try:
                loop.call_soon_threadsafe(deliver, outcome)
            except RuntimeError:
                pass  # the loop is gone: the batch stopped while this attempt ran

        started = time.monotonic()
        thread = threading.Thread(target=work, name=f"herald-batch-{job.attempt}", daemon=True)
        self._threads.add(thread)
        thread.start()
        done.add_done_callback(lambda _: self._threads.discard(thread))
        try:
            return await asyncio.wait_for(asyncio.shield(done), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            self._stop(stop, holder)  # the batch is stopping: let the thread end by itself
            raise
        self._stop(stop, holder)
        try:
            partial = await asyncio.wait_for(asyncio.shield(done), PARTIAL_GRACE)
        except TimeoutError:
            partial = None
        limit = deadline - started
        message = time_limit_message(limit)
        if partial is None:
            return failure(job, message, "TimeoutError")
        partial.status, partial.error, partial.error_type = "failed", message, "TimeoutError"
        return partial

    @staticmethod
    def _stop(stop: threading.Event, holder: list[BatchAgent]) -> None:
        stop.set()
        for agent in holder:
            agent.interrupt()

    async def aclose(self) -> None:
        """Wait (briefly) for the threads of stopped attempts, so they close their connections."""
        deadline = time.monotonic() + CLOSE_GRACE
        while any(thread.is_alive() for thread in self._threads) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self._threads = {thread for thread in self._threads if thread.is_alive()}


class _LoopSignals:
    """Signals from an agent's thread, handed to the event loop that owns the limit."""

    def __init__(self, loop: asyncio.AbstractEventLoop, target: Signals) -> None:
        self._loop = loop
        self._target = target

    def rate_limited(self) -> None:
        self._call(self._target.rate_limited)

    def succeeded(self) -> None:
        self._call(self._target.succeeded)

    def _call(self, method: object) -> None:
        try:
            self._loop.call_soon_threadsafe(method)  # type: ignore[arg-type]
        except RuntimeError:
            pass  # the loop closed: nobody is listening any more
