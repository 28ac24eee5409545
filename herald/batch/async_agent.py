"""The agent side of a batch on the async core: one `AsyncAIAgent` that accounts for each attempt.

Many attempts run on one `BatchAsyncAgent` at once, so what an attempt's model calls add up
to cannot live on the agent: it lives in an `AttemptScope`, set in a context variable by the
runner for the attempt's task (asyncio gives every task its own copy of the context, so each
concurrent attempt sees its own scope). The agent overrides two seams of `AsyncAIAgent`:

- `_caller` (once per provider attempt): its answers are recorded (usage, the model that
  answered, stream fallbacks) and reported to the concurrency limit; its plain requests retry
  with `BatchRetry`, which tells the limit of every 429 and waits rate limits out longer than
  other errors.
- `_persist` (each message the conversation appends): the scope keeps the turn's messages, so
  an attempt stopped at its time limit still has its partial conversation.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from herald.agent.async_core import AsyncAIAgent
from herald.agent.async_tools import DEFAULT_TOOL_WORKERS
from herald.batch.agent import RATE_LIMIT_RETRIES, AgentConfig, AttemptStats, Signals
from herald.errors import RateLimitError
from herald.llm.async_caller import AsyncLLMCaller, OnCancel
from herald.llm.failover import Attempt, is_quota
from herald.llm.retry import RetryPolicy, is_transient
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse


@dataclass
class AttemptScope:
    """One attempt's accounts, filled in by the agent's seams while the attempt runs.

    Attributes:
        signals: told of every 429 and every answered model call.
        stats: usage, fallbacks, 429s and the answering model, over the attempt's calls.
        messages: the messages the turn appended to the history, in order (its user turn first).
        answered: model calls that were answered.
        cut_short: a model call was in flight when the attempt was cancelled.
        started: when the attempt started (monotonic seconds).
    """

    signals: Signals
    started: float = 0.0
    stats: AttemptStats = field(default_factory=AttemptStats)
    messages: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0
    cut_short: bool = False

    def record(self, response: LLMResponse) -> LLMResponse:
        """A model call's answer (whichever provider gave it)."""
        self.answered += 1
        self.stats.add(response)
        if response.extras.get("fallback_reason"):
            self.stats.fallbacks += 1
        self.signals.succeeded()
        return response

    def rate_limited(self) -> None:
        self.stats.rate_limited += 1
        self.signals.rate_limited()


CURRENT_ATTEMPT: ContextVar[AttemptScope | None] = ContextVar("herald_batch_attempt", default=None)
"""The attempt the running task belongs to (set by the runner around each attempt)."""


@dataclass
class _Failures:
    """What one plain request's retries have seen so far."""

    scope: AttemptScope
    rate_limited: int = 0
    other: int = 0


@dataclass(frozen=True)
class BatchRetry(RetryPolicy):
    """The retries of one plain request in a batch: every 429 goes to the limit, and rate limits
    are waited out `rate_limit_retries` times (0 with failover: another key or provider takes
    over at once), other transient failures `transient_retries` times.

    `max_retries` only bounds the loop from outside; `should_retry` decides, so it sees every failure.
    """

    transient_retries: int = 3
    rate_limit_retries: int = RATE_LIMIT_RETRIES
    failures: _Failures | None = field(default=None, compare=False)

    def should_retry(self, error: BaseException) -> bool:
        failures = self.failures
        assert failures is not None
        if isinstance(error, RateLimitError):
            failures.rate_limited += 1
            failures.scope.rate_limited()
            return not is_quota(error) and failures.rate_limited <= self.rate_limit_retries
        failures.other += 1
        return is_transient(error) and failures.other <= self.transient_retries


class _ScopedCaller:
    """A provider's call path for one attempt: the answer goes into the attempt's scope."""

    def __init__(self, caller: AsyncLLMCaller, scope: AttemptScope) -> None:
        self._caller = caller
        self._scope = scope

    async def stream(self, client: Any, api_kwargs: dict[str, Any], sink: DeltaSink, *, on_cancel: OnCancel) -> LLMResponse:
        try:
            return self._scope.record(await self._caller.stream(client, api_kwargs, sink, on_cancel=on_cancel))
        except asyncio.CancelledError:
            self._scope.cut_short = True
            raise

    async def request(self, client: Any, api_kwargs: dict[str, Any]) -> LLMResponse:
        try:
            return self._scope.record(await self._caller.request(client, api_kwargs))
        except asyncio.CancelledError:
            self._scope.cut_short = True
            raise


def _discard(text: str) -> None:
    """A stream consumer nobody watches: it makes each call stream (with fallback), as in chat."""


class BatchAsyncAgent(AsyncAIAgent):
    """The batch's agent: no session, no memory, no context files, nobody to ask.

    Args:
        config: the batch's agent settings.
        cwd: the working directory its tools and system prompt see.
        pool_of: an agent of the same batch whose connection pool this one uses (and leaves
            open: its owner closes it). Attempts that need a working directory of their own get
            an agent each, and still share the process's connections.
        tool_workers: threads for its tools, shared by its conversations (made only when needed).
    """

    def __init__(
        self, config: AgentConfig, cwd: Path, *, pool_of: BatchAsyncAgent | None = None, tool_workers: int = DEFAULT_TOOL_WORKERS
    ) -> None:
        super().__init__(
            config.model,
            stream_delta_callback=_discard if config.stream else None,
            tool_workers=tool_workers,
            **config.agent_options(cwd),
        )
        self._config = config
        self._owns_pool = pool_of is None
        if pool_of is not None:
            self._pool = pool_of._pool  # the same settings, so the same clients

    def system_prompt(self, system_message: str | None) -> str:
        """The system prompt a turn with this `system_message` is sent (as the sync agent builds it)."""
        return self._base._system_prompt(system_message)

    async def aclose(self) -> None:
        """Close the tool threads, and the connection pool if it is this agent's: the agent is done for good."""
        if self._owns_pool:
            await super().aclose()
        self._tools.close()

    # ── the seams ───────────────────────────────────────────────────────

    def _caller(self, attempt: Attempt) -> Any:
        caller = super()._caller(attempt)
        scope = CURRENT_ATTEMPT.get()
        if scope is None:  # not inside an attempt (nothing in a batch calls from outside one)
            return caller
        config = self._config
        retries = 0 if config.fails_over else RATE_LIMIT_RETRIES
        retry = BatchRetry(
            max_retries=config.max_retries + retries + 1,
            base_delay=caller.retry.base_delay,
            max_delay=caller.retry.max_delay,
            transient_retries=config.max_retries,
            rate_limit_retries=retries,
            failures=_Failures(scope),
        )
        return _ScopedCaller(replace(caller, retry=retry), scope)

    def _persist(self, session_id: str | None, message: dict[str, Any]) -> None:
        scope = CURRENT_ATTEMPT.get()
        if scope is not None:
            scope.messages.append(message)
        super()._persist(session_id, message)
