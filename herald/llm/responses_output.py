"""A finished Responses-API answer (its `output` items, as plain dicts) → the accumulator."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from herald.llm.accumulate import StreamAccumulator
from herald.llm.types import FunctionCall, ResponseState, ToolCall, usage_from


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, (list, tuple)) else []


class OutputParts:
    """Text, reasoning, tool calls and replay data read from Responses output items."""

    def __init__(self, items: Iterable[Mapping[str, Any]]) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.reasoning_items: list[dict[str, Any]] = []
        for item in items:
            self._read(item)

    def _read(self, item: Mapping[str, Any]) -> None:
        kind = item.get("type")
        if kind == "message":
            for part in _dicts(item.get("content")):
                part_type = part.get("type")
                if part_type == "output_text":
                    self.text.append(_str(part.get("text")))
                elif part_type == "refusal":
                    self.text.append(_str(part.get("refusal")))
        elif kind == "function_call":
            call_id = _str(item.get("call_id")) or _str(item.get("id")) or f"call_{len(self.tool_calls)}"
            function = FunctionCall(_str(item.get("name")), _str(item.get("arguments")))
            self.tool_calls.append(ToolCall(id=call_id, function=function))
        elif kind == "reasoning":
            # Summaries are what OpenAI exposes; open-weight servers send reasoning_text content.
            texts = [_str(s.get("text")) for s in _dicts(item.get("summary"))]
            if not any(texts):
                texts = [_str(c.get("text")) for c in _dicts(item.get("content"))]
            self.reasoning.append("\n\n".join(t for t in texts if t))
            if item.get("encrypted_content"):
                self.reasoning_items.append(_replayable(item))

    @property
    def empty(self) -> bool:
        return not (any(self.text) or any(self.reasoning) or self.tool_calls)


def _replayable(item: Mapping[str, Any]) -> dict[str, Any]:
    """A reasoning item as it may be sent back as input (no status, no output-only fields)."""
    return {
        "type": "reasoning",
        "id": item.get("id"),
        "summary": [{"type": "summary_text", "text": _str(s.get("text"))} for s in _dicts(item.get("summary"))],
        "encrypted_content": item.get("encrypted_content"),
    }


def settle_final(acc: StreamAccumulator, final: Mapping[str, Any] | None) -> ResponseState:
    """Give the accumulator the terminal response object's account of the answer; return its state.

    The final `output` wins over the streamed deltas, field by field. Some backends send
    `response.completed` with `output: []` although items were streamed: then the items they
    finished (kept by the accumulator) stand in for it.
    """
    final = final or {}
    parts = OutputParts(_dicts(final.get("output")))
    if parts.empty:
        parts = OutputParts(_dicts(acc.finished_items()))
    acc.settle(
        text="".join(parts.text),
        reasoning="\n\n".join(r for r in parts.reasoning if r),
        tool_calls=parts.tool_calls,
    )
    for item in parts.reasoning_items:
        acc.handle_reasoning_item(item=item)
    acc.handle_meta(response_id=_str(final.get("id")) or None, model=_str(final.get("model")) or None)
    acc.handle_usage(usage=usage_from(final.get("usage")))
    finish_reason, state = _finish(final, has_calls=acc.has_tool_calls)
    acc.handle_finish(reason=finish_reason)
    return state


def _finish(final: Mapping[str, Any], *, has_calls: bool) -> tuple[str, ResponseState]:
    if final.get("status") == "incomplete":
        details = final.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return ("content_filter" if reason == "content_filter" else "length"), "incomplete"
    return ("tool_calls" if has_calls else "stop"), "complete"


__all__ = ["OutputParts", "settle_final"]
