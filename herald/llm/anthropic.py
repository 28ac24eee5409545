"""The Anthropic Messages wire ("anthropic_messages"), spoken with the official `anthropic` SDK.

Streams with `client.messages.stream(...)`; the fallback is a plain `messages.create(...)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from herald.errors import IncompleteStream
from herald.llm.accumulate import StreamAccumulator
from herald.llm.anthropic_output import (
    finish_reason_for,
    response_from_message,
    thinking_data,
)
from herald.llm.guard import RequestGuard
from herald.llm.history import to_anthropic_messages, to_anthropic_tools
from herald.llm.pump import pump
from herald.llm.sdk_errors import provider_message_of
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse, Usage

_USAGE_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")

DEFAULT_MAX_TOKENS = 8192
"""Anthropic requires `max_tokens`; this is used when the caller gives none."""


class AnthropicWire:
    """Requests, streams and answers in the Anthropic Messages format."""

    mode = "anthropic_messages"
    supports_stream_options = False

    def build_kwargs(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """Native request kwargs from chat-format history and tools."""
        system, turns = to_anthropic_messages(messages)
        kwargs: dict[str, Any] = {"model": model, "messages": turns, "max_tokens": max_tokens or DEFAULT_MAX_TOKENS}
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = to_anthropic_tools(tools)
        return kwargs

    def stream_kwargs(self, api_kwargs: dict[str, Any], *, stream_options: bool) -> dict[str, Any]:
        # `messages.stream()` sets `stream` itself and rejects it as an argument.
        return self.plain_kwargs(api_kwargs)

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: v for k, v in api_kwargs.items() if k not in ("stream", "stream_options")}
        kwargs.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        return kwargs

    def open_stream(self, client: Any, kwargs: dict[str, Any]) -> Any:
        """The SDK's stream manager; the request goes out when `read_stream` enters it."""
        return client.messages.stream(**kwargs)

    def read_stream(self, stream: Any, acc: StreamAccumulator, sink: DeltaSink, guard: RequestGuard[Any] | None) -> LLMResponse:
        reader = AnthropicEventReader(acc, sink)
        try:
            with stream as events:
                pump(events, reader.handle, guard)
        except anthropic.APIStatusError as exc:
            # The SDK raises an `event: error` inside a 200 stream as a status error with
            # status 200 (e.g. overloaded_error mid-stream): that is an in-band stream failure.
            if exc.status_code != 200:
                raise
            raise IncompleteStream(f"the provider sent an error event mid-stream: {provider_message_of(exc.body) or exc.message}") from None
        except httpx2.TransportError as exc:
            # Unlike openai's, the anthropic SDK lets a connection torn mid-body escape raw.
            raise IncompleteStream(f"the connection broke mid-stream: {type(exc).__name__}: {exc}") from None
        return reader.finish()

    def request(self, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
        return response_from_message(client.messages.create(**kwargs))


@dataclass
class _Block:
    """One content block as it streams in."""

    type: str
    thinking: list[str] = field(default_factory=list)
    signature: str = ""
    data: str = ""
    start_input: Any = None
    saw_json: bool = False


class AnthropicEventReader:
    """Feeds raw Anthropic stream events to an accumulator.

    The SDK's `MessageStream` also yields derived events ("text", "thinking", "input_json",
    "signature"), which repeat the raw deltas: those are ignored.
    """

    def __init__(self, acc: StreamAccumulator, sink: DeltaSink) -> None:
        self.acc = acc
        self.sink = sink
        self.events_seen = False
        self.stop_reason: str | None = None
        self._blocks: dict[Any, _Block] = {}
        self._counts: dict[str, int] = {}

    def handle(self, event: Any) -> bool:
        """Feed one event; True when it carried content (resets the idle timer)."""
        self.events_seen = True
        kind = getattr(event, "type", "")
        if kind == "content_block_delta":
            return self._delta(getattr(event, "index", None), getattr(event, "delta", None))
        if kind == "content_block_start":
            return self._start(getattr(event, "index", None), getattr(event, "content_block", None))
        if kind == "content_block_stop":
            self._stop(getattr(event, "index", None))
        elif kind == "message_start":
            message = getattr(event, "message", None)
            self.acc.handle_meta(response_id=getattr(message, "id", None), model=getattr(message, "model", None))
            self._usage(getattr(message, "usage", None))
        elif kind == "message_delta":
            stop_reason = getattr(getattr(event, "delta", None), "stop_reason", None)
            if stop_reason:
                self.stop_reason = stop_reason
            self._usage(getattr(event, "usage", None))
        return False

    def finish(self) -> LLMResponse:
        """The complete answer.

        Raises:
            IncompleteStream: no stop reason arrived: the SDK ends a cut stream quietly.
        """
        if not self.events_seen:
            raise IncompleteStream("the Anthropic stream ended before any event (not an SSE stream?)")
        if self.stop_reason is None:
            raise IncompleteStream("the Anthropic stream ended without a stop reason (connection cut?)")
        self.acc.handle_finish(reason=finish_reason_for(self.stop_reason))
        self.acc.provider_data = thinking_data(self._thinking_blocks()) or {}
        response = self.acc.build(state="incomplete" if self.stop_reason == "max_tokens" else "complete")
        for call in response.message.tool_calls or ():
            # A tool without parameters streams no input_json_delta at all.
            if not call.function.arguments.strip():
                call.function.arguments = "{}"
        return response

    # ── events ──────────────────────────────────────────────────────────

    def _start(self, index: Any, block: Any) -> bool:
        kind = getattr(block, "type", "") or ""
        state = _Block(type=kind)
        self._blocks[index] = state
        if kind == "thinking":
            state.signature = getattr(block, "signature", "") or ""
            return self._reasoning(state, getattr(block, "thinking", "") or "")
        if kind == "redacted_thinking":
            state.data = getattr(block, "data", "") or ""
        elif kind == "text":
            text = getattr(block, "text", "") or ""
            if text:
                self.sink.emit(self.acc.handle_text_delta(text=text))
                return True
        elif kind == "tool_use":
            self.sink.close_text()  # a tool-calling turn: the rest of the text is not for display
            state.start_input = getattr(block, "input", None)
            self.sink.emit(self.acc.handle_tool_call_delta(index=index, call_id=getattr(block, "id", None), name=getattr(block, "name", None)))
            return True
        return False

    def _delta(self, index: Any, delta: Any) -> bool:
        kind = getattr(delta, "type", None)
        state = self._blocks.get(index) or self._blocks.setdefault(index, _Block(type=""))
        if kind == "text_delta":
            self.sink.emit(self.acc.handle_text_delta(text=getattr(delta, "text", "") or ""))
            return True
        if kind == "thinking_delta":
            return self._reasoning(state, getattr(delta, "thinking", "") or "")
        if kind == "signature_delta":
            state.signature = getattr(delta, "signature", "") or ""
        elif kind == "input_json_delta":
            state.saw_json = True
            self.acc.handle_tool_call_delta(index=index, arguments=getattr(delta, "partial_json", "") or "")
            return True
        return False

    def _stop(self, index: Any) -> None:
        state = self._blocks.get(index)
        # Some proxies put the whole input in content_block_start and stream no deltas.
        if state is not None and state.type == "tool_use" and not state.saw_json and state.start_input:
            self.acc.handle_tool_call_delta(index=index, arguments=json.dumps(state.start_input))

    def _reasoning(self, state: _Block, text: str) -> bool:
        if not text:
            return False
        state.thinking.append(text)
        self.sink.emit(self.acc.handle_reasoning_delta(text=text))
        return True

    def _usage(self, usage: Any) -> None:
        # Anthropic usage is cumulative: each count reported replaces the last, never adds.
        # Input counts come with message_start (message_delta may repeat them), output with
        # message_delta; a count left out of a later report keeps its earlier value.
        if usage is None:
            return
        for name in _USAGE_COUNTS:
            value = getattr(usage, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                self._counts[name] = value
        prompt = sum(self._counts.get(name, 0) for name in _USAGE_COUNTS[:3])
        completion = self._counts.get("output_tokens", 0)
        cached = self._counts.get("cache_read_input_tokens")
        self.acc.handle_usage(
            usage=Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion, cached_tokens=cached)
        )

    def _thinking_blocks(self) -> list[dict[str, Any]]:
        blocks = []
        for state in self._blocks.values():
            if state.type == "thinking":
                blocks.append({"type": "thinking", "thinking": "".join(state.thinking), "signature": state.signature})
            elif state.type == "redacted_thinking":
                blocks.append({"type": "redacted_thinking", "data": state.data})
        return blocks


__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicEventReader", "AnthropicWire"]
