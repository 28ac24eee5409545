"""The agent side of a batch on the async core: one `AsyncAIAgent` that accounts for each attempt.

Many attempts run on one `BatchAsyncAgent` at once, so what an attempt's model calls add up
to cannot live on the agent: it lives in an `AttemptScope`, set in a context variable by the
runner for the attempt's task (asyncio gives every task its own copy of the context, so each
concurrent attempt sees its own scope). The agent overrides seams of `AsyncAIAgent`:

- `_model_answered` / `_model_cut_short` (each model call): its answer is recorded (usage, the
  model that answered, stream fallbacks) and reported to the concurrency limit;
- `_attempt_ended` (each request the planner sent): every 429 is told to the limit;
- `_persist` (each message the conversation appends): the scope keeps the turn's messages, so
  an attempt stopped at its time limit still has its partial conversation.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herald.agent.async_core import AsyncAIAgent
from herald.agent.async_tools import DEFAULT_TOOL_TIMEOUT, DEFAULT_TOOL_WORKERS
from herald.agent.settings import Callbacks
from herald.batch.agent import AgentConfig, AttemptStats, Signals
from herald.llm.records import AttemptRecord
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
        self._setup(
            config.settings_for(cwd),
            Callbacks(stream_delta=_discard if config.stream else None),
            session_id=None,
            session_store=None,
            max_concurrency=None,
            tool_workers=tool_workers,
            tool_timeout=DEFAULT_TOOL_TIMEOUT,
        )
        self._config = config
        self._owns_pool = pool_of is None
        if pool_of is not None:
            self._client = pool_of.client  # the same settings, so the same clients and what they learned

    def system_prompt(self, system_message: str | None) -> str:
        """The system prompt a turn with this `system_message` is sent (as the sync agent builds it)."""
        return self.core.system_prompt(system_message)

    async def aclose(self) -> None:
        """Close the tool threads, and the connection pool if it is this agent's: the agent is done for good."""
        if self._owns_pool:
            await super().aclose()
        self._tools.close()

    # ── the seams ───────────────────────────────────────────────────────

    def _model_answered(self, response: LLMResponse) -> None:
        scope = CURRENT_ATTEMPT.get()
        if scope is not None:
            scope.record(response)

    def _model_cut_short(self) -> None:
        scope = CURRENT_ATTEMPT.get()
        if scope is not None:
            scope.cut_short = True

    def _attempt_ended(self, record: AttemptRecord) -> None:
        scope = CURRENT_ATTEMPT.get()
        if scope is not None and record.outcome == "rate_limited":
            scope.rate_limited()

    def _persist(self, session_id: str | None, message: dict[str, Any]) -> None:
        scope = CURRENT_ATTEMPT.get()
        if scope is not None:
            scope.messages.append(message)
        super()._persist(session_id, message)
