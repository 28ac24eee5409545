"""Running attempts on this machine: the `SampleRunner` port and the executor around it.

A runner runs one attempt and returns its `Outcome`. The executor gives each attempt a
slot of the adaptive limit and a time limit, and turns anything a runner raises into a
failed outcome: one sample's crash or hang is that sample's result, never the batch's end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Protocol

from herald.batch.agent import Signals
from herald.batch.jobs import Job, Outcome, crash, failure
from herald.batch.limit import AdaptiveLimit

log = logging.getLogger("herald.batch")

# How long past its deadline a runner may take to hand back a stopped attempt before the
# executor stops waiting for it.
STOP_GRACE = 5.0


class SampleRunner(Protocol):
    """Runs one attempt to its end."""

    async def run(self, job: Job, *, deadline: float, signals: Signals) -> Outcome:
        """Run `job`; stop it at `deadline` (monotonic seconds) and return a failed outcome.

        A failing sample is a failed `Outcome`, not an exception.
        """
        ...

    async def aclose(self) -> None:
        """Release what the runner holds (clients, threads)."""
        ...


class JobSource(Protocol):
    """Where an executor takes its next job from."""

    async def get(self) -> Job | None:
        """The next job, waiting if one may still come; None when there will be no more."""
        ...


async def run_isolated(runner: SampleRunner, job: Job, *, time_limit: float | None, signals: Signals) -> Outcome:
    """`runner.run(job)`, bounded by `time_limit`, never raising (except on cancellation)."""
    started = time.monotonic()
    deadline = started + time_limit if time_limit else float("inf")
    backstop = time_limit + STOP_GRACE if time_limit else None
    try:
        async with asyncio.timeout(backstop):
            outcome = await runner.run(job, deadline=deadline, signals=signals)
    except TimeoutError:
        return failure(job, time_limit_message(time_limit), "TimeoutError", duration_s=time.monotonic() - started)
    except Exception as error:  # a bug in a runner: the sample fails, the batch goes on
        log.debug("runner crashed on %r", job.sample.id, exc_info=True)
        return crash(job, error, duration_s=time.monotonic() - started)
    outcome.duration_s = time.monotonic() - started
    return outcome


def time_limit_message(time_limit: float | None) -> str:
    return f"the sample did not finish within its time limit of {time_limit:.3g} s"


class LocalExecutor:
    """Runs jobs from a source on one runner, as many at once as the limit allows.

    Args:
        runner: runs one attempt.
        limit: the adaptive concurrency limit (429s shrink it, successes grow it back).
        time_limit: seconds per attempt (None: no limit).
    """

    def __init__(self, runner: SampleRunner, limit: AdaptiveLimit, time_limit: float | None) -> None:
        self.runner = runner
        self.limit = limit
        self.time_limit = time_limit

    async def run(self, jobs: JobSource, emit: Callable[[Outcome], None]) -> None:
        """Take jobs until the source is empty; `emit` each outcome as it ends."""
        async with asyncio.TaskGroup() as group:
            while True:
                await self.limit.acquire()  # a slot first: never hold a job that cannot start
                try:
                    job = await jobs.get()
                except BaseException:
                    self.limit.release()
                    raise
                if job is None:
                    self.limit.release()
                    return
                group.create_task(self._one(job, emit))

    async def _one(self, job: Job, emit: Callable[[Outcome], None]) -> None:
        try:
            outcome = await run_isolated(self.runner, job, time_limit=self.time_limit, signals=self.limit)
        finally:
            self.limit.release()
        emit(outcome)
