"""Retrying a failed turn: which user turn to send again, and the history to send it with.

    turn = retry_turn(history)           # None: the last turn ended with an answer
    agent.run_turn(turn.user_message, conversation_history=turn.history, resend=True)

The retry continues the same session: the user message is already stored (and is the last
message of `turn.history`), so it is not stored again. What the failed turn left after it
(a partial answer marked interrupted, tool results) stays in the session as it happened; it
is not sent with the retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RetryTurn:
    """The user turn to send again.

    Attributes:
        user_message: its text.
        history: the conversation up to and including that user message.
    """

    user_message: str
    history: list[dict[str, Any]]


def retry_turn(history: list[dict[str, Any]]) -> RetryTurn | None:
    """The last user turn when it failed or was interrupted (it has no final answer), else None."""
    last_user = next(
        (i for i in range(len(history) - 1, -1, -1) if history[i].get("role") == "user" and not history[i].get("continuation")),
        None,
    )
    if last_user is None or not isinstance(history[last_user].get("content"), str):
        return None
    if _answered(history[last_user + 1 :]):
        return None
    return RetryTurn(history[last_user]["content"], list(history[: last_user + 1]))


def _answered(after: list[dict[str, Any]]) -> bool:
    """A turn ended with an answer: its last message is the model's text, not cut short."""
    if not after:
        return False
    last = after[-1]
    return last.get("role") == "assistant" and not last.get("tool_calls") and not last.get("interrupted")


__all__ = ["RetryTurn", "retry_turn"]
