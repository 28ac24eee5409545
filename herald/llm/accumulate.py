"""Accumulate one model call's answer into one `LLMResponse`: the single owner of a call's state.

Wire-neutral: the chat, Responses and Anthropic stream readers translate their events into the
keyword-only `handle_*` calls below, and the plain (non-streamed) answers of every wire are fed
through the same calls, so `build()` is the one place an `LLMResponse` is made and `complete()`
the one place that decides a stream ended incomplete. Strings are collected in buffers and
joined once, so accumulating an n-character answer is O(n) in time and about 2n in memory.

State kept here, not in the readers: text, reasoning, tool calls (keyed by the vendor's index),
Anthropic thinking blocks with their signatures, Responses reasoning items and finished output
items (some backends end with an empty `output`), usage counts, id, model, finish reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

from herald.errors import IncompleteStream
from herald.llm.history import ANTHROPIC_DATA, RESPONSES_DATA
from herald.llm.types import (
    Choice,
    FunctionCall,
    LLMResponse,
    Message,
    ResponseState,
    ToolCall,
    Usage,
)

_PROMPT_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


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


    @classmethod
    def of(cls, text: str) -> _TextBuffer:
        buffer = cls()
        if text:
            buffer._blocks.append(text)
        return buffer


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: _TextBuffer = field(default_factory=_TextBuffer)
    fallback_arguments: str = ""
    """Used when no argument text arrived (Anthropic: a tool without parameters streams none)."""

    def arguments_text(self) -> str:
        text = self.arguments.text()
        if self.fallback_arguments and not text.strip():
            return self.fallback_arguments
        return text


@dataclass
class _ThinkingBlock:
    """An Anthropic thinking block, replayed verbatim (with its signature) on the next turn."""

    type: str
    thinking: _TextBuffer = field(default_factory=_TextBuffer)
    signature: str = ""
    data: str = ""

    def replay(self) -> dict[str, Any]:
        if self.type == "redacted_thinking":
            return {"type": "redacted_thinking", "data": self.data}
        return {"type": "thinking", "thinking": self.thinking.text(), "signature": self.signature}


class StreamAccumulator:
    """Collects one answer, streamed or plain. Not thread-safe: one reader feeds it."""

    def __init__(self) -> None:
        self._text = _TextBuffer()
        self._reasoning = _TextBuffer()
        self._calls: list[_PartialCall] = []
        self._position_by_index: dict[Any, int] = {}
        self._thinking: dict[Any, _ThinkingBlock] = {}
        self._reasoning_items: list[dict[str, Any]] = []
        self._finished_items: list[tuple[int, Any]] = []
        self._usage_counts: dict[str, int] = {}
        self.events_seen = False
        """True once any event arrived (readers set it on every `feed`)."""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.id = ""
        self.model = ""

    # ── content ─────────────────────────────────────────────────────────

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
        fallback_arguments: str | None = None,
    ) -> ToolCallStarted | None:
        """Merge one tool-call fragment, keyed by the vendor's index.

        Tolerates what real servers send: no index at all, the id and name repeated on every
        fragment (llama.cpp), a whole call in one fragment, and a new id at an index already
        used, which is a second call rather than more of the first. `fallback_arguments` are
        the call's arguments if no argument text ever arrives.
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
        if fallback_arguments is not None:
            call.fallback_arguments = fallback_arguments
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

    @property
    def has_tool_calls(self) -> bool:
        return bool(self._calls)

    def has_call(self, index: Any) -> bool:
        """Whether a tool call was started at the vendor's `index`."""
        return index in self._position_by_index

    # ── replay data ─────────────────────────────────────────────────────

    def handle_thinking_start(self, *, index: Any, redacted: bool = False, signature: str = "", data: str = "") -> None:
        """An Anthropic thinking (or redacted thinking) block opens at `index`."""
        self._thinking[index] = _ThinkingBlock("redacted_thinking" if redacted else "thinking", signature=signature, data=data)

    def handle_thinking_delta(self, *, index: Any, text: str) -> ReasoningDelta | None:
        """Thinking text: reasoning to show, and part of the block to replay."""
        if not text:
            return None
        block = self._thinking.get(index)
        if block is None:
            block = self._thinking[index] = _ThinkingBlock("thinking")
        block.thinking.append(text)
        return self.handle_reasoning_delta(text=text)

    def handle_signature(self, *, index: Any, signature: str) -> None:
        block = self._thinking.get(index)
        if block is None:
            block = self._thinking[index] = _ThinkingBlock("thinking")
        block.signature = signature

    def handle_reasoning_item(self, *, item: dict[str, Any]) -> None:
        """A Responses reasoning item to send back as input on the next turn (encrypted content)."""
        self._reasoning_items.append(item)

    def handle_item_done(self, *, index: Any, item: Mapping[str, Any]) -> None:
        """A finished Responses output item, kept in case the final `output` comes back empty."""
        self._finished_items.append((index if isinstance(index, int) else len(self._finished_items), item))

    def finished_items(self) -> list[Any]:
        """The finished output items in output order."""
        return [item for _, item in sorted(self._finished_items, key=lambda pair: pair[0])]

    # ── the provider's own account of the answer ────────────────────────

    def settle(
        self,
        *,
        text: str | None = None,
        reasoning: str | None = None,
        tool_calls: Iterable[ToolCall] | None = None,
    ) -> None:
        """Replace what the deltas built with the provider's final account, field by field.

        A field left None (or empty) keeps what streamed: some servers' final objects omit
        what they streamed.
        """
        if text:
            self._text = _TextBuffer.of(text)
        if reasoning:
            self._reasoning = _TextBuffer.of(reasoning)
        calls = list(tool_calls or ())
        if calls:
            self._calls = [_PartialCall(c.id, c.function.name, _TextBuffer.of(c.function.arguments)) for c in calls]
            self._position_by_index = {}

    # ── metadata ────────────────────────────────────────────────────────

    def handle_finish(self, *, reason: str | None) -> None:
        if reason:
            self.finish_reason = reason

    def handle_usage(self, *, usage: Usage | None) -> None:
        """Replace, don't sum: every wire reports usage cumulatively."""
        if usage is not None:
            self.usage = usage

    def handle_usage_counts(self, *, counts: Mapping[str, Any]) -> None:
        """Named token counts, each replacing its last value (Anthropic reports them cumulatively,
        input counts with message_start, output with message_delta; a count left out keeps its value)."""
        kept = self._usage_counts
        for name in (*_PROMPT_COUNTS, "output_tokens"):
            value = counts.get(name)
            if type(value) is int:
                kept[name] = value
        prompt = sum(kept.get(name, 0) for name in _PROMPT_COUNTS)
        completion = kept.get("output_tokens", 0)
        self.usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            cached_tokens=kept.get("cache_read_input_tokens"),
            cache_write_tokens=kept.get("cache_creation_input_tokens"),
        )

    def handle_meta(self, *, response_id: str | None = None, model: str | None = None) -> None:
        if response_id and not self.id:
            self.id = response_id
        if model:
            self.model = model

    # ── the answer ──────────────────────────────────────────────────────

    def complete(self, *, state: ResponseState = "complete") -> LLMResponse:
        """The streamed answer, once the stream ended.

        Raises:
            IncompleteStream: no event arrived, or none carried a finish reason (the SDKs end a
                cut connection silently, so this is how a truncated answer is caught).
        """
        if not self.events_seen:
            raise IncompleteStream("no_data")
        if self.finish_reason is None:
            raise IncompleteStream("no_finish")
        return self.build(state=state)

    def build(self, *, state: ResponseState = "complete", streamed: bool = True) -> LLMResponse:
        """What has accumulated, in the common response shape (the one place one is made)."""
        tool_calls = [
            ToolCall(id=call.id or f"call_{position}", function=FunctionCall(call.name, call.arguments_text()))
            for position, call in enumerate(self._calls)
        ]
        message = Message(
            content=self._text.text() or None,
            tool_calls=tool_calls or None,
            reasoning_content=self._reasoning.text() or None,
            provider_data=self._provider_data(),
        )
        return LLMResponse(
            choices=[Choice(message=message, finish_reason=self.finish_reason)],
            id=self.id,
            model=self.model,
            usage=self.usage,
            state=state,
            streamed=streamed,
        )

    def _provider_data(self) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        if self._thinking:
            data[ANTHROPIC_DATA] = {"thinking_blocks": [block.replay() for block in self._thinking.values()]}
        if self._reasoning_items:
            data[RESPONSES_DATA] = {"reasoning_items": list(self._reasoning_items)}
        return data or None


__all__ = ["ReasoningDelta", "StreamAccumulator", "TextDelta", "ToolCallStarted"]
