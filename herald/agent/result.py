"""How one conversation turn ended: a typed value, and the dict `run_conversation` has always returned."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from herald.agent.limits import LimitKind
from herald.agent.usage import usage_record
from herald.llm.records import AttemptRecord
from herald.llm.types import Usage

TurnStatus = Literal["completed", "interrupted", "failed", "incomplete", "limited"]
"""How a turn ended (the one definition: the CLI, JSON events and batch rows use it)."""


@dataclass
class TurnResult:
    """The outcome of one user turn (model calls and tool calls until the model answered).

    Attributes:
        status: "completed" (the model answered), "interrupted" (the user stopped it),
            "failed" (a model call or the turn's setup failed), "incomplete" (it stopped
            short without a failure: `max_iterations` model calls and no final answer).
        final_response: the answer text (joined across continuations), or what had arrived
            before an interrupt; None when there is none.
        messages: the whole history of the conversation, OpenAI format, without the system prompt.
        api_calls: model calls made in this turn.
        usage: token usage summed over this turn's model calls (None when no call reported any).
        error: the exception that failed the turn (None unless "failed").
        error_message: a message fit for a person, key redacted: the error's, or why the turn
            stopped short.
        answered_by: who produced the final answer (`model`, `base_url`, `skipped`: the providers
            ahead of it that did not answer, each with a `reason`); None without an answer.
        truncated: the answer was cut by the `max_tokens` limit (and not continued).
        fallback_reason: why a plain request last replaced a stream in this turn, or None.
        limit: which limit ended the turn ("time", "turns", "tokens"; status "limited"), else None.
        finish_reason: the last model call's finish reason ("stop", "length", "tool_calls", …), or None.
        attempts: every request of the turn's model calls, in order (`AttemptRecord`s: provider,
            key position, outcome, duration, error, what came next).
        continuations: how often a broken stream's answer was continued from the text already
            shown in this turn, rather than restarted (`herald.llm.continuation`).
    """

    status: TurnStatus
    final_response: str | None
    messages: list[dict[str, Any]]
    api_calls: int = 0
    usage: Usage | None = None
    error: BaseException | None = None
    error_message: str | None = None
    answered_by: dict[str, Any] | None = None
    truncated: bool = False
    fallback_reason: str | None = None
    limit: LimitKind | None = None
    finish_reason: str | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)
    continuations: int = 0

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def interrupted(self) -> bool:
        return self.status == "interrupted"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def refused_alone(self, history_before: int) -> bool:
        """True when the turn's only trace is its own user message, refused as too long for the
        model's context: a session holding nothing else is not worth keeping."""
        from herald.errors import ContextOverflow

        return (
            self.failed and isinstance(self.error, ContextOverflow)
            and len(self.messages) == history_before + 1 and self.messages[-1].get("role") == "user"
        )

    def without_last_message(self) -> TurnResult:
        """This result with the last history message left out."""
        return replace(self, messages=self.messages[:-1])

    def as_dict(self) -> dict[str, Any]:
        """The `run_conversation` dict: the same keys and values as always."""
        return {
            "final_response": self.final_response,
            "messages": self.messages,
            "api_calls": self.api_calls,
            "completed": self.completed,
            "interrupted": self.interrupted,
            "failed": self.failed,
            "error": self.error_message,
            # The exception's class name (e.g. "AuthenticationError"), so a UI can say what to do.
            "error_type": type(self.error).__name__ if self.error is not None else None,
            # Who produced the final answer: {"model", "base_url", "skipped": [{"model", "base_url", "reason"}]}.
            "answered_by": self.answered_by,
            # The answer was cut by the max_tokens limit (and not continued).
            "truncated": self.truncated,
            # Tokens summed over the turn's answers, in the stored form of `herald.agent.usage`.
            "usage": usage_record(self.usage) if self.usage is not None else None,
            "fallback_reason": self.fallback_reason,
            # "completed", "interrupted", "failed", "incomplete" or "limited" (then `limit` says which).
            "status": self.status,
            "limit": self.limit,
            "finish_reason": self.finish_reason,
            "attempts": [attempt.as_dict() for attempt in self.attempts],
            # How often a broken stream's answer was continued in place rather than restarted.
            "continuations": self.continuations,
        }
