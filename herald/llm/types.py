"""The one response type every call path returns.

Streamed, plain, fallback and interrupted calls all produce an `LLMResponse` shaped like
the openai SDK's non-streaming `ChatCompletion` (`response.choices[0].message.content`),
so the agent loop never needs to know which path produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ResponseState = Literal["complete", "incomplete", "interrupted"]


@dataclass
class FunctionCall:
    name: str
    """The tool's name."""
    arguments: str
    """The arguments as JSON text, exactly as the model produced them (may be invalid JSON)."""


@dataclass
class ToolCall:
    id: str
    """The provider's call id, echoed back in the `tool` message that carries the result."""
    function: FunctionCall
    type: str = "function"

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI message-history form of this call."""
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }


@dataclass
class Message:
    content: str | None = None
    """The answer text; None when the model produced none."""
    tool_calls: list[ToolCall] | None = None
    """The tool calls; None (not []) when there are none, as in the openai SDK."""
    reasoning_content: str | None = None
    """Reasoning / thinking text, when the provider exposes it."""
    role: str = "assistant"
    provider_data: dict[str, Any] | None = None
    """Wire-specific data needed to replay this message (e.g. Anthropic thinking signatures)."""

    @property
    def reasoning(self) -> str | None:
        """Alias used by some providers (OpenRouter) for `reasoning_content`."""
        return self.reasoning_content


@dataclass
class Choice:
    message: Message
    finish_reason: str | None = None
    """"stop", "tool_calls", "length", "content_filter"; None when the answer is not complete."""
    index: int = 0


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    """Output tokens spent on reasoning; None when the provider does not say."""
    cached_tokens: int | None = None
    """Prompt tokens read from the provider's cache (counted in `prompt_tokens` too); None when not reported."""
    cache_write_tokens: int | None = None
    """Prompt tokens written to the provider's cache (counted in `prompt_tokens` too; Anthropic's
    `cache_creation_input_tokens`); None when not reported."""

    def __add__(self, more: Usage) -> Usage:
        """The sum of two answers' usage (the one place usage is summed); a detail stays None
        until some answer reports it."""
        return Usage(
            self.prompt_tokens + more.prompt_tokens,
            self.completion_tokens + more.completion_tokens,
            self.total_tokens + more.total_tokens,
            _add_detail(self.reasoning_tokens, more.reasoning_tokens),
            _add_detail(self.cached_tokens, more.cached_tokens),
            _add_detail(self.cache_write_tokens, more.cache_write_tokens),
        )


def add_usage(total: Usage | None, more: Usage | None) -> Usage | None:
    """`total` plus `more`, either of which may be missing (None: nothing reported)."""
    if more is None:
        return total
    return more if total is None else total + more


def _add_detail(total: int | None, more: int | None) -> int | None:
    if total is None and more is None:
        return None
    return (total or 0) + (more or 0)


@dataclass
class LLMResponse:
    choices: list[Choice]
    id: str = ""
    model: str = ""
    usage: Usage | None = None
    state: ResponseState = "complete"
    """"complete" unless the call was interrupted or the answer is known to be truncated."""
    streamed: bool = False
    """True when the answer came from a stream, False when from a plain (or fallback) request."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Diagnostics, e.g. {"fallback_reason": "..."} when a fallback replaced a stream."""

    @property
    def message(self) -> Message:
        return self.choices[0].message

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason


def usage_from(obj: Any) -> Usage | None:
    """Read a usage object of any provider shape (attributes or dict) into `Usage`."""
    if obj is None:
        return None
    get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
    prompt = _int(get("prompt_tokens")) or _int(get("input_tokens"))
    completion = _int(get("completion_tokens")) or _int(get("output_tokens"))
    total = _int(get("total_tokens")) or prompt + completion
    reasoning = _detail(get("completion_tokens_details") or get("output_tokens_details"), "reasoning_tokens")
    cached = _detail(get("prompt_tokens_details") or get("input_tokens_details"), "cached_tokens")
    return Usage(prompt, completion, total, reasoning, cached)


def _detail(details: Any, name: str) -> int | None:
    """One count of a `*_tokens_details` object or dict; None when it is not reported."""
    if details is None:
        return None
    value = details.get(name) if isinstance(details, dict) else getattr(details, name, None)
    return _int(value) if value is not None else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
