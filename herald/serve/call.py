"""What the endpoints share: one parsed call, request errors, and finish reasons across wires."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from herald.errors import (
    AuthenticationError,
    LLMError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
)


@dataclass(frozen=True)
class CallRequest:
    """A client's request, translated into `AsyncClient` arguments (OpenAI chat format).

    Attributes:
        model: the public model name the client asked for.
        messages: chat-format history (system / user / assistant with tool_calls / tool).
        tools: chat tool schemas, or None.
        max_tokens / temperature: None when the client gave none.
        options: other body fields passed on (e.g. top_p).
        stream: whether the client asked for SSE.
        include_usage: (chat) `stream_options.include_usage`.
        echo: (responses) what the response object repeats of the request (tools, temperature, …).
    """

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    include_usage: bool = False
    echo: dict[str, Any] = field(default_factory=dict)

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of `AsyncClient.complete` / `.stream`."""
        return {
            "tools": self.tools,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "options": self.options or None,
        }


class BadRequest(Exception):
    """The client's request cannot be served as it is: a 4xx with this message."""

    def __init__(self, message: str, *, status: int = 400, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


# Herald's finish reasons are the chat wire's; Anthropic's stop reasons map to them and back.
_TO_ANTHROPIC = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "content_filter": "refusal"}


def chat_finish_reason(reason: str | None) -> str:
    """The chat wire's finish reason for Herald's (already the chat wire's vocabulary)."""
    return reason if reason in ("stop", "tool_calls", "length", "content_filter") else "stop"


def anthropic_stop_reason(reason: str | None) -> str:
    """Anthropic's stop reason for Herald's finish reason (`stop` → `end_turn`, …)."""
    return _TO_ANTHROPIC.get(reason or "stop", "end_turn")


@dataclass(frozen=True)
class Failure:
    """How a failed call is told to the client: status, error type per wire, one key-free line."""

    status: int
    openai_type: str
    anthropic_type: str
    message: str


def failure_for(error: BaseException, secrets: tuple[str, ...] = ()) -> Failure:
    """The status and error types for a call that failed before anything reached the client:
    429 when rate-limited, the provider's 4xx for a request it rejects, 503 when providers are
    down or overloaded, 502 for an answer that was not one."""
    message = _scrub(str(error) or type(error).__name__, secrets)
    if isinstance(error, RateLimitError):
        return Failure(429, "rate_limit_error", "rate_limit_error", message)
    if isinstance(error, AuthenticationError):
        # The provider refused the gateway's key: the gateway's problem, not the client's.
        return Failure(503, "api_error", "api_error", message)
    if isinstance(error, ModelNotFoundError):
        return Failure(502, "api_error", "api_error", message)
    if isinstance(error, ProviderError) and error.status is not None and 400 <= error.status < 500:
        return Failure(error.status, "invalid_request_error", "invalid_request_error", message)
    if isinstance(error, (ProviderUnreachable, ProviderError)):
        return Failure(503, "api_error", "overloaded_error", message)
    if isinstance(error, LLMError):
        return Failure(502, "api_error", "api_error", message)
    return Failure(500, "api_error", "api_error", f"internal error: {type(error).__name__}")


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text.splitlines()[0] if text else text


def require(body: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """`body[key]`, which must be present and of `kind`; else a 400 naming it."""
    if key not in body:
        raise BadRequest(f"{key}: required")
    value = body[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise BadRequest(f"{key}: must be {what}")
    return value


def optional_number(body: Mapping[str, Any], key: str, *, whole: bool = False) -> Any:
    """`body[key]` when it is a number (None when absent or null); else a 400."""
    value = body.get(key)
    if value is None:
        return None
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise BadRequest(f"{key}: must be {'a whole number' if whole else 'a number'}")
    return value


__all__ = [
    "BadRequest",
    "CallRequest",
    "Failure",
    "anthropic_stop_reason",
    "chat_finish_reason",
    "failure_for",
    "optional_number",
    "require",
]
