"""A finished Responses-API answer (its `output` items) → `LLMResponse`."""

from __future__ import annotations

from typing import Any, Iterable

from herald.llm.history import RESPONSES_DATA
from herald.llm.types import (
    Choice,
    FunctionCall,
    LLMResponse,
    Message,
    ResponseState,
    ToolCall,
    usage_from,
)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """Attribute or key: SDK models, raw dicts and test doubles all pass through here."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _to_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return dict(item)
    to_dict = getattr(item, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    return {k: v for k, v in vars(item).items() if not k.startswith("_")}


class OutputParts:
    """Text, reasoning, tool calls and replay data read from Responses output items."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.reasoning_items: list[dict[str, Any]] = []
        for item in items:
            self._read(item)

    def _read(self, item: Any) -> None:
        kind = _get(item, "type")
        if kind == "message":
            for part in _get(item, "content") or ():
                part_type = _get(part, "type")
                if part_type == "output_text":
                    self.text.append(_get(part, "text") or "")
                elif part_type == "refusal":
                    self.text.append(_get(part, "refusal") or "")
        elif kind == "function_call":
            call_id = _get(item, "call_id") or _get(item, "id") or f"call_{len(self.tool_calls)}"
            function = FunctionCall(_get(item, "name") or "", _get(item, "arguments") or "")
            self.tool_calls.append(ToolCall(id=call_id, function=function))
        elif kind == "reasoning":
            # Summaries are what OpenAI exposes; open-weight servers send reasoning_text content.
            texts = [_get(s, "text") or "" for s in _get(item, "summary") or ()]
            if not any(texts):
                texts = [_get(c, "text") or "" for c in _get(item, "content") or ()]
            self.reasoning.append("\n\n".join(t for t in texts if t))
            if _get(item, "encrypted_content"):
                self.reasoning_items.append(_replayable(item))

    @property
    def empty(self) -> bool:
        return not (any(self.text) or any(self.reasoning) or self.tool_calls)


def _replayable(item: Any) -> dict[str, Any]:
    """A reasoning item as it may be sent back as input (no status, no output-only fields)."""
    data = _to_dict(item)
    return {
        "type": "reasoning",
        "id": data.get("id"),
        "summary": [{"type": "summary_text", "text": _get(s, "text") or ""} for s in data.get("summary") or ()],
        "encrypted_content": data.get("encrypted_content"),
    }


def build_response(
    final: Any,
    *,
    parts: OutputParts,
    streamed_view: LLMResponse | None = None,
    streamed: bool,
) -> LLMResponse:
    """The `LLMResponse` for a finished Responses answer.

    Args:
        final: the terminal response object (`response.completed` / `.incomplete`), or None.
        parts: what its output (or, when that came back empty, the finished items) held.
        streamed_view: what the deltas accumulated, used for whatever `parts` lacks.
        streamed: whether the answer came from a live stream.
    """
    view = streamed_view.message if streamed_view is not None else Message()
    text = "".join(parts.text) or view.content
    reasoning = "\n\n".join(r for r in parts.reasoning if r) or view.reasoning_content
    tool_calls = parts.tool_calls or list(view.tool_calls or ())
    finish_reason, state = _finish(final, has_calls=bool(tool_calls))
    provider_data = {RESPONSES_DATA: {"reasoning_items": parts.reasoning_items}} if parts.reasoning_items else None
    message = Message(content=text or None, tool_calls=tool_calls or None, reasoning_content=reasoning or None, provider_data=provider_data)
    return LLMResponse(
        choices=[Choice(message=message, finish_reason=finish_reason)],
        id=_str(_get(final, "id")) or (streamed_view.id if streamed_view else ""),
        model=_str(_get(final, "model")) or (streamed_view.model if streamed_view else ""),
        usage=usage_from(_get(final, "usage")) or (streamed_view.usage if streamed_view else None),
        state=state,
        streamed=streamed,
    )


def _finish(final: Any, *, has_calls: bool) -> tuple[str, ResponseState]:
    if _get(final, "status") == "incomplete":
        reason = _get(_get(final, "incomplete_details"), "reason")
        return ("content_filter" if reason == "content_filter" else "length"), "incomplete"
    return ("tool_calls" if has_calls else "stop"), "complete"
