"""A `SampleRunner` on the async core: every attempt is a conversation on a `BatchAsyncAgent`.

One agent serves the whole process: its conversations share one connection pool and what
the endpoints taught, and each has its own history (the sample's). The exception is a batch
whose file or terminal tools need a working directory per attempt: an `AsyncAIAgent`'s
working directory is its instance's (its tools' cwd and its system prompt), so each such
attempt gets an agent of its own, on the shared agent's connection pool, closed when the
attempt ends.

The time limit is a cancellation: cancelling the attempt's conversation is the async agent's
interrupt (the request's connection closed, the partial answer kept, every started tool call
answered), and the partial conversation comes back from the attempt's scope.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from herald.agent.async_tools import DEFAULT_TOOL_WORKERS
from herald.batch.agent import AgentConfig, Signals, outcome_from_result
from herald.batch.async_agent import CURRENT_ATTEMPT, AttemptScope, BatchAsyncAgent
from herald.batch.jobs import Job, Outcome
from herald.batch.runner import time_limit_message


class AsyncRunner:
    """Runs attempts as concurrent conversations on one `BatchAsyncAgent` (made on first use).

    Args:
        config: the batch's agent settings.
        concurrency: the most attempts that run at once; the shared agent gets as many tool
            threads, so tools (web fetches) never queue behind each other's samples.
    """

    def __init__(self, config: AgentConfig, *, concurrency: int = DEFAULT_TOOL_WORKERS) -> None:
        self.config = config
        self.concurrency = concurrency
        self._shared: BatchAsyncAgent | None = None

    async def run(self, job: Job, *, deadline: float, signals: Signals) -> Outcome:
        scope = AttemptScope(signals, started=time.monotonic())
        token = CURRENT_ATTEMPT.set(scope)  # this task's context: concurrent attempts never mix
        try:
            shared = await self._shared_agent()
            if not self.config.touches_machine:
                return await self._converse(shared, job, scope, deadline)
            own = BatchAsyncAgent(self.config, self.config.cwd_for(job), pool_of=shared)
            try:
                return await self._converse(own, job, scope, deadline)
            finally:
                await own.aclose()
        finally:
            CURRENT_ATTEMPT.reset(token)

    async def _shared_agent(self) -> BatchAsyncAgent:
        if self._shared is None:
            self._shared = BatchAsyncAgent(self.config, self.config.workdir_root, tool_workers=self.concurrency)
            await self._shared.__aenter__()  # its pool stays open between attempts
        return self._shared

    async def _converse(self, agent: BatchAsyncAgent, job: Job, scope: AttemptScope, deadline: float) -> Outcome:
        sample, system = job.sample, self.config.system_for(job)
        scope.stats.system_prompt = agent.system_prompt(system)
        limit = asyncio.timeout_at(deadline if math.isfinite(deadline) else None)
        try:
            async with limit:
                turn = await agent.run_turn(sample.user_message, system, list(sample.history))
        except TimeoutError:
            if not limit.expired():
                raise
            return self._stopped(job, scope, deadline - scope.started)
        return outcome_from_result(job, turn.as_dict(), scope.stats, requested_model=self.config.model)

    def _stopped(self, job: Job, scope: AttemptScope, time_limit: float) -> Outcome:
        """The attempt its time limit stopped, with the conversation as far as it got."""
        last = scope.messages[-1] if scope.messages else {}
        partial: dict[str, Any] = {
            "messages": [*job.sample.history, *scope.messages],
            "api_calls": scope.answered + scope.cut_short,
            "interrupted": True,
            "final_response": last.get("content") if last.get("interrupted") else None,
        }
        outcome = outcome_from_result(job, partial, scope.stats, requested_model=self.config.model)
        outcome.error, outcome.error_type = time_limit_message(time_limit), "TimeoutError"
        return outcome

    async def aclose(self) -> None:
        """Close the shared agent (its connections and tool threads)."""
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.aclose()
