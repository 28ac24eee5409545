"""Turn a failure into one line a person can act on, and an exit code.

Exit codes: 0 success, 1 a failed turn (or other run-time failure), 2 a usage or
configuration error, 130 interrupted by the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.agent.result import TurnResult
from herald.errors import (
    AuthenticationError,
    ConfigError,
    ContextOverflow,
    HeraldError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
    UserError,
)
from herald.context.budget import looks_like_overflow
from herald.llm.redact import redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

ERROR_PREFIX = "herald: error: "
"""How every error line starts, wherever it is printed."""

_HINTS: list[tuple[type[BaseException], str]] = [
    (AuthenticationError, "check HERALD_API_KEY / --api-key (`herald config` shows which key is used)"),
    (ModelNotFoundError, "check --model / `herald config` (and the base URL)"),
    (RateLimitError, "wait a moment and try again, or use another model"),
    (ProviderUnreachable, "check --base-url / is the server running?"),
    (ContextOverflow, "shorten the input"),
]
_OVERFLOW_IN_CHAT = "shorten the input, or /new to start a new conversation"
"""The context hint in a chat, where /new exists (a one-shot question has no /new)."""


@dataclass(frozen=True)
class Failure:
    """What to print (one line, key-free) and the exit code."""

    message: str
    exit_code: int


def describe(
    message: str, kind: type[BaseException] | None, secrets: tuple[str | None, ...] = (), *, in_chat: bool = False
) -> Failure:
    """One line: the error, then what to do about it (`in_chat`: hints may name chat commands)."""
    message = " ".join(redact(message, secrets).split())
    hint = _hint(message, kind)
    if in_chat and hint == dict(_HINTS)[ContextOverflow]:
        hint = _OVERFLOW_IN_CHAT
    line = f"{message} — {hint}" if hint else message
    code = EXIT_USAGE if kind is not None and issubclass(kind, UserError) else EXIT_FAILED
    return Failure(line, code)


def describe_result(result: TurnResult, secrets: tuple[str | None, ...] = (), *, in_chat: bool = False) -> Failure:
    """The failure of a turn that failed (or stopped short): its message, hinted by its error's class."""
    kind = type(result.error) if result.error is not None else None
    return describe(result.error_message or "the turn failed", kind, secrets, in_chat=in_chat)


def describe_exception(error: BaseException, secrets: tuple[str | None, ...] = ()) -> Failure:
    """The failure of an exception raised outside a turn (config, sessions, startup)."""
    text = str(error) or type(error).__name__
    if not isinstance(error, HeraldError):
        text = f"{type(error).__name__}: {text}"
    return describe(text, type(error), secrets)


def _hint(message: str, kind: type[BaseException] | None) -> str:
    if kind is None:
        return ""
    if issubclass(kind, ConfigError) and message.startswith("no API key for"):
        return "`herald config` shows which settings are in effect"
    for cls, hint in _HINTS:
        if issubclass(kind, cls):
            return hint
    if issubclass(kind, ProviderError) and looks_like_overflow(message):
        return dict(_HINTS)[ContextOverflow]  # a provider's context-length error
    if issubclass(kind, ProviderError):
        return "the provider failed both streaming and plain requests; try again later or check `herald config`"
    return ""
