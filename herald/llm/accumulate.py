"""Accumulate streamed deltas into one `LLMResponse`.

Wire-neutral: the chat, Responses and Anthropic stream readers all translate their events
into the keyword-only `handle_*` calls below. Strings are collected in buffers and joined once,
so accumulating an n-character answer is O(n) in time and about 2n in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from herald.llm.types import (
    Choice,
    FunctionCall,
    LLMResponse,
    Message,
    ResponseState,
    ToolCall,
    Usage,
)


# slots, not frozen: a frozen dataclass's __init__ costs ~1 µs, and there is one event per chunk.
@dataclass(slots=True)
class TextDelta:
    text: str
    kind: Literal["text"] = "text"


@dataclass(slots=True)
class ReasoningDelta:
    text: str
    kind: Literal["reasoning"] = "reasoning"


@dataclass(slots=True)
class ToolCallStarted:
    name: str
    """The tool's name, known once the call's name arrived."""
    position: int
    """The call's position in the final `tool_calls` list."""
    kind: Literal["tool_call_started"] = "tool_call_started"


class _TextBuffer:
    """Appends in O(1), joins once. Pieces are folded into blocks every so often: a list of
    millions of token-sized strings costs ~60 bytes per piece, 15× the text itself."""

    _FOLD_EVERY = 1024

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pieces: list[str] = []

    def append(self, piece: str) -> None:
        pieces = self._pieces
        pieces.append(piece)
        if len(pieces) >= self._FOLD_EVERY:
            self._blocks.append("".join(pieces))
            pieces.clear()

    def text(self) -> str:
        if self._pieces:
            self._blocks.append("".join(self._pieces))
            self._pieces.clear()
        if len(self._blocks) > 1:
            # Keep one copy, not blocks + result: the peak stays near twice the text.
            self._blocks[:] = ["".join(self._blocks)]
        return self._blocks[0] if self._blocks else ""


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: _TextBuffer = field(default_factory=_TextBuffer)


class StreamAccumulator:
    """Collects one streamed answer. Not thread-safe: one reader feeds it."""

    def __init__(self) -> None:
        self._text = _TextBuffer()
        self._reasoning = _TextBuffer()
        self._calls: list[_PartialCall] = []
        self._position_by_index: dict[Any, int] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.id = ""
        self.model = ""
        self.provider_data: dict[str, Any] = {}

    def handle_text_delta(self, *, text: str) -> TextDelta | None:
        if not text:
            return None
        self._text.append(text)
        return TextDelta(text)

    def handle_reasoning_delta(self, *, text: str) -> ReasoningDelta | None:
        if not text:
            return None
        self._reasoning.append(text)
        return ReasoningDelta(text)

    def handle_tool_call_delta(
        self,
        *,
        index: Any = None,
        call_id: str | None = None,
        name: str | None = None,
        arguments: str | None = None,
    ) -> ToolCallStarted | None:
        """Merge one tool-call fragment, keyed by the vendor's index.

        Tolerates what real servers send: no index at all, the id and name repeated on every
        fragment (llama.cpp), a whole call in one fragment, and a new id at an index already
        used, which is a second call rather than more of the first.
        """
        position = self._position_for(index, call_id)
        call = self._calls[position]
        started = None
        if call_id and not call.id:
            call.id = call_id
        if name and name != call.name:
            if not call.name:
                started = ToolCallStarted(name, position)
            call.name = name if not call.name else call.name + name
        if arguments:
            call.arguments.append(arguments)
        return started

    def _position_for(self, index: Any, call_id: str | None) -> int:
        if index is None:
            last = self._calls[-1] if self._calls else None
            if last is None or (call_id and last.id and call_id != last.id):
                return self._new_call(None)
            return len(self._calls) - 1
        position = self._position_by_index.get(index)
        if position is None:
            return self._new_call(index)
        existing = self._calls[position].id
        if call_id and existing and call_id != existing:
            return self._new_call(index)
        return position

    def _new_call(self, index: Any) -> int:
        self._calls.append(_PartialCall())
        position = len(self._calls) - 1
        if index is not None:
            self._position_by_index[index] = position
        return position

    def handle_finish(self, *, reason: str | None) -> None:
        if reason:
            self.finish_reason = reason

    def handle_usage(self, *, usage: Usage | None) -> None:
        """Replace, don't sum: every wire reports usage cumulatively."""
        if usage is not None:
            self.usage = usage

    def handle_meta(self, *, response_id: str | None = None, model: str | None = None) -> None:
        if response_id and not self.id:
            self.id = response_id
        if model:
            self.model = model

    def build(self, *, state: ResponseState = "complete") -> LLMResponse:
        """The accumulated answer in the common response shape."""
        tool_calls = [
            ToolCall(id=call.id or f"call_{position}", function=FunctionCall(call.name, call.arguments.text()))
            for position, call in enumerate(self._calls)
        ]
        message = Message(
            content=self._text.text() or None,
            tool_calls=tool_calls or None,
            reasoning_content=self._reasoning.text() or None,
            provider_data=self.provider_data or None,
        )
        return LLMResponse(
            choices=[Choice(message=message, finish_reason=self.finish_reason)],
            id=self.id,
            model=self.model,
            usage=self.usage,
            state=state,
            streamed=True,
        )
