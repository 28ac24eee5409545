"""Provider-shaped error bodies: OpenAI style for the OpenAI wires, Anthropic style for Messages."""

from __future__ import annotations

import json
from typing import Any

# status -> (OpenAI error type, OpenAI error code, default message)
_OPENAI: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", "unsupported_country_region_territory", "Country, region, or territory not supported."),
    404: ("invalid_request_error", "not_found", "Not found."),
    408: ("timeout", None, "Request timed out."),
    413: ("invalid_request_error", "request_too_large", "Request too large."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout."),
    529: ("server_error", None, "Overloaded."),
}

_ANTHROPIC: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def default_message(status: int) -> str:
    return _OPENAI.get(status, ("", None, f"Upstream error {status}."))[2]


def error_body(
    wire: str, status: int, message: str, type_: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The JSON error body a real provider on `wire` sends with `status`."""
    if wire == "anthropic":
        kind = type_ or _ANTHROPIC.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    fallback = ("server_error" if status >= 500 else "invalid_request_error", None, "")
    default_type, default_code, _ = _OPENAI.get(status, fallback)
    return {"error": {"message": message, "type": type_ or default_type, "param": None, "code": code or default_code}}


def mask_key(key: str) -> str:
    """Mask a key the way OpenAI does in 401 messages: keep a short prefix and suffix only."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def prompt_tokens(body: dict[str, Any]) -> int:
    """A request's prompt size in tokens, as this fake counts them: its text's bytes / 4."""
    parts = [body.get(key) for key in ("messages", "input", "system", "instructions", "tools")]
    text = json.dumps([p for p in parts if p is not None], ensure_ascii=False)
    return len(text.encode("utf-8")) // 4


def context_length_message(wire: str, used: int, window: int) -> str:
    """The words a real provider on `wire` uses when the prompt exceeds its context window."""
    if wire == "anthropic":
        return f"prompt is too long: {used} tokens > {window} maximum"
    return (
        f"This model's maximum context length is {window} tokens. However, your messages resulted in "
        f"{used} tokens. Please reduce the length of the messages."
    )
