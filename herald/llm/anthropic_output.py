"""Anthropic Messages answers → `LLMResponse`: stop reasons, usage, content blocks."""

from __future__ import annotations

import json
from typing import Any

from herald.errors import BadResponse
from herald.llm.history import ANTHROPIC_DATA
from herald.llm.types import Choice, FunctionCall, LLMResponse, Message, ToolCall, Usage

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}


def finish_reason_for(stop_reason: str | None) -> str | None:
    """The chat-completions finish reason for an Anthropic `stop_reason` (None stays None)."""
    if stop_reason is None:
        return None
    return _STOP_REASONS.get(stop_reason, "stop")


def usage_of(usage: Any) -> Usage | None:
    """Anthropic usage → `Usage`. Cached prompt tokens count as prompt tokens, as in chat completions."""
    if usage is None:
        return None
    prompt = sum(_int(getattr(usage, name, None)) for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    completion = _int(getattr(usage, "output_tokens", None))
    cached = getattr(usage, "cache_read_input_tokens", None)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cached_tokens=_int(cached) if cached is not None else None,
    )


def thinking_data(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """`Message.provider_data` carrying thinking blocks for replay, or None without any."""
    return {ANTHROPIC_DATA: {"thinking_blocks": blocks}} if blocks else None


def response_from_message(message: Any) -> LLMResponse:
    """Read a non-streaming Anthropic `Message` into `LLMResponse`.

    Raises:
        BadResponse: it is not a Message (e.g. an HTML page).
    """
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        raise BadResponse(f"the provider's answer is not an Anthropic message: {str(message)[:200]}")
    text: list[str] = []
    reasoning: list[str] = []
    thinking_blocks: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    for block in content:
        kind = getattr(block, "type", None)
        if kind == "text":
            text.append(getattr(block, "text", "") or "")
        elif kind == "thinking":
            reasoning.append(getattr(block, "thinking", "") or "")
            thinking_blocks.append(
                {"type": "thinking", "thinking": getattr(block, "thinking", "") or "", "signature": getattr(block, "signature", "") or ""}
            )
        elif kind == "redacted_thinking":
            thinking_blocks.append({"type": "redacted_thinking", "data": getattr(block, "data", "") or ""})
        elif kind == "tool_use":
            arguments = json.dumps(getattr(block, "input", None) or {})
            calls.append(ToolCall(id=getattr(block, "id", "") or f"call_{len(calls)}", function=FunctionCall(getattr(block, "name", "") or "", arguments)))
    finish = finish_reason_for(getattr(message, "stop_reason", None)) or ("tool_calls" if calls else "stop")
    return LLMResponse(
        choices=[
            Choice(
                message=Message(
                    content="".join(text) or None,
                    tool_calls=calls or None,
                    reasoning_content="".join(reasoning) or None,
                    provider_data=thinking_data(thinking_blocks),
                ),
                finish_reason=finish,
            )
        ],
        id=getattr(message, "id", "") or "",
        model=getattr(message, "model", "") or "",
        usage=usage_of(getattr(message, "usage", None)),
        state="incomplete" if finish == "length" else "complete",
        streamed=False,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
