"""The OpenAI Responses wire ("codex_responses"): OpenAI, Azure, Codex backends, vLLM…

Streams with the SDK's `responses.stream(...)` context manager. Its fallback is a
*buffered* stream (`responses.create(stream=True)` read to its terminal event, no
callbacks), because some Codex backends reject `stream: false`; a plain `stream: false`
request is used only when the buffered one is refused as a request-shape error (4xx),
or always when the wire is built with `fallback="plain"`.
"""

from __future__ import annotations

from typing import Any, Literal

import openai

from herald.errors import (
    BadResponse,
    IncompleteStream,
    ProviderError,
    ProviderUnreachable,
)
from herald.llm.accumulate import StreamAccumulator
from herald.llm.fallback import rejects_streaming
from herald.llm.guard import RequestGuard
from herald.llm.history import to_responses_input, to_responses_tools
from herald.llm.pump import pump
from herald.llm.responses_output import OutputParts, build_response
from herald.llm.sdk_errors import status_error
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse

FallbackKind = Literal["auto", "buffered", "plain"]

_REASONING_DELTAS = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")
_TEXT_DELTAS = ("response.output_text.delta", "response.refusal.delta")


class ResponsesWire:
    """Requests, streams and answers in the OpenAI Responses format.

    Args:
        fallback: the replacement request: "auto" (buffered stream, then `stream: false`
            if that is refused), "buffered" (buffered stream only) or "plain" (`stream: false` only).
    """

    mode = "codex_responses"
    supports_stream_options = False

    def __init__(self, *, fallback: FallbackKind = "auto") -> None:
        self.fallback = fallback

    def build_kwargs(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """Native request kwargs from chat-format history and tools."""
        instructions, items = to_responses_input(messages)
        kwargs: dict[str, Any] = {"model": model, "input": items}
        if instructions:
            kwargs["instructions"] = instructions
        if tools:
            kwargs["tools"] = to_responses_tools(tools)
        if max_tokens:
            kwargs["max_output_tokens"] = max_tokens
        return kwargs

    def stream_kwargs(self, api_kwargs: dict[str, Any], *, stream_options: bool) -> dict[str, Any]:
        # `responses.stream()` sets `stream` itself and rejects it as an argument.
        return self.plain_kwargs(api_kwargs)

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]:
        # A chat-style `stream_options` ({"include_usage": …}) is not valid here.
        return {k: v for k, v in api_kwargs.items() if k not in ("stream", "stream_options")}

    def open_stream(self, client: Any, kwargs: dict[str, Any]) -> Any:
        """The SDK's stream manager; the request goes out when `read_stream` enters it."""
        return client.responses.stream(**kwargs)

    def read_stream(self, stream: Any, acc: StreamAccumulator, sink: DeltaSink, guard: RequestGuard[Any] | None) -> LLMResponse:
        reader = ResponsesEventReader(acc, sink, incomplete_is_failure=True)
        with stream as events:
            pump(events, reader.handle, guard)
            return reader.finish(stream=events, streamed=True)

    def request(self, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
        """The fallback: a buffered stream, or a plain request (see the class docstring)."""
        kwargs = self.plain_kwargs(kwargs)  # idempotent; the buffered request sets `stream` itself
        if self.fallback == "plain":
            return plain_request(client, kwargs)
        try:
            return buffered_request(client, kwargs)
        except (openai.APIStatusError, ProviderError) as error:
            if self.fallback == "buffered" or not _refuses_streaming(error):
                raise
            return plain_request(client, kwargs)


def _refuses_streaming(error: Exception) -> bool:
    translated = error if isinstance(error, ProviderError) else status_error(error, where="", secrets=())
    return rejects_streaming(translated)


def run_responses_stream(
    client: Any, api_kwargs: dict[str, Any], sink: DeltaSink, guard: RequestGuard[Any] | None = None
) -> LLMResponse:
    """Stream one Responses call on `client` to `sink` (no fallback: failures raise).

    Raises:
        IncompleteStream: the stream failed, was incomplete, or ended without a terminal event.
    """
    wire = ResponsesWire()
    stream = wire.open_stream(client, wire.stream_kwargs(api_kwargs, stream_options=False))
    return wire.read_stream(stream, StreamAccumulator(), sink, guard)


def buffered_request(client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """`responses.create(stream=True)` consumed to its terminal event, delivering nothing.

    Raises:
        ProviderUnreachable: the connection ended before the terminal event (retryable).
        BadResponse: no events at all, `response.failed`, or an `error` event.
    """
    reader = ResponsesEventReader(StreamAccumulator(), None, incomplete_is_failure=False)
    events = client.responses.create(**kwargs, stream=True)
    try:
        for event in events:
            reader.handle(event)
        return reader.finish(stream=None, streamed=False)
    except IncompleteStream as exc:
        if reader.events_seen and not reader.failed:
            raise ProviderUnreachable(f"the buffered Responses stream was cut: {exc}") from None
        raise BadResponse(str(exc)) from None
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()


def plain_request(client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """A `stream: false` Responses request.

    Raises:
        BadResponse: the answer is not a response object, or its status is "failed".
    """
    return response_from_responses(client.responses.create(**kwargs))


def response_from_responses(response: Any) -> LLMResponse:
    """Read a non-streaming Responses `Response` into `LLMResponse`."""
    output = getattr(response, "output", None)
    if output is None:
        raise BadResponse(f"the provider's answer is not a Responses object: {str(response)[:200]}")
    if getattr(response, "status", None) == "failed":
        raise BadResponse(f"the response failed: {_error_text(getattr(response, 'error', None))}")
    return build_response(response, parts=OutputParts(output), streamed=False)


class ResponsesEventReader:
    """Feeds Responses stream events (SDK models or any look-alike) to an accumulator.

    Reads with `getattr` defaults throughout: test doubles and proxies send sparse events.
    """

    def __init__(self, acc: StreamAccumulator, sink: DeltaSink | None, *, incomplete_is_failure: bool) -> None:
        self.acc = acc
        self.sink = sink
        self.incomplete_is_failure = incomplete_is_failure
        self.events_seen = False
        self.failed = False
        self.status: str | None = None
        """"completed" or "incomplete" once the terminal event arrived."""
        self.final: Any = None
        self._done_items: list[tuple[int, Any]] = []
        self._call_indexes: set[Any] = set()
        self._reasoning_part: Any = None

    def handle(self, event: Any) -> bool:
        """Feed one event; True when it carried content (resets the idle timer).

        Raises:
            IncompleteStream: `response.failed`, an `error` event, or (streaming) `response.incomplete`.
        """
        self.events_seen = True
        kind = getattr(event, "type", "") or ""
        if kind in _TEXT_DELTAS:
            self._emit(self.acc.handle_text_delta(text=_text(getattr(event, "delta", ""))))
            return True
        if kind in _REASONING_DELTAS:
            return self._reasoning(event)
        if kind == "response.output_item.added":
            return self._item_added(event)
        if kind == "response.function_call_arguments.delta":
            self._close_text()
            self.acc.handle_tool_call_delta(index=getattr(event, "output_index", None), arguments=_text(getattr(event, "delta", "")))
            return True
        if kind == "response.output_item.done":
            return self._item_done(event)
        if kind in ("response.created", "response.in_progress", "response.queued"):
            response = getattr(event, "response", None)
            self.acc.handle_meta(response_id=_str(getattr(response, "id", None)), model=_str(getattr(response, "model", None)))
        elif kind in ("response.completed", "response.incomplete"):
            self._terminal(kind, getattr(event, "response", None))
        elif kind == "response.failed":
            self.failed = True
            error = getattr(getattr(event, "response", None), "error", None)
            raise IncompleteStream(f"the provider reported response.failed: {_error_text(error)}")
        elif kind == "error":
            self.failed = True
            raise IncompleteStream(f"the provider sent an error event mid-stream: {_error_text(event)}")
        return False

    def finish(self, *, stream: Any, streamed: bool) -> LLMResponse:
        """The complete answer, once the terminal event was read.

        Raises:
            IncompleteStream: the events ended without a terminal event.
        """
        if self.status is None:
            if not self.events_seen:
                raise IncompleteStream("the Responses stream ended before any event (not an SSE stream?)")
            raise IncompleteStream("the Responses stream ended without a terminal event (connection cut?)")
        final = self.final
        if final is None and stream is not None and callable(getattr(stream, "get_final_response", None)):
            final = stream.get_final_response()
        parts = OutputParts(_list(getattr(final, "output", None)))
        if parts.empty and self._done_items:
            # Some backends send `response.completed` with `output: []` although items were
            # streamed: rebuild the answer from the items they finished.
            parts = OutputParts(item for _, item in sorted(self._done_items, key=lambda pair: pair[0]))
        return build_response(final, parts=parts, streamed_view=self.acc.build(), streamed=streamed)

    # ── events ──────────────────────────────────────────────────────────

    def _reasoning(self, event: Any) -> bool:
        part = (getattr(event, "item_id", None), getattr(event, "summary_index", None), getattr(event, "content_index", None))
        text = _text(getattr(event, "delta", ""))
        if self._reasoning_part is not None and part != self._reasoning_part and text:
            text = "\n\n" + text  # a new summary part: keep parts apart, as the final output does
        self._reasoning_part = part
        self._emit(self.acc.handle_reasoning_delta(text=text))
        return True

    def _item_added(self, event: Any) -> bool:
        item = getattr(event, "item", None)
        if getattr(item, "type", None) != "function_call":
            return False
        index = getattr(event, "output_index", None)
        self._call_indexes.add(index)
        self._add_call(index, item)
        return True

    def _item_done(self, event: Any) -> bool:
        item = getattr(event, "item", None)
        if item is None:
            return False
        index = getattr(event, "output_index", None)
        self._done_items.append((index if isinstance(index, int) else len(self._done_items), item))
        if getattr(item, "type", None) == "function_call" and index not in self._call_indexes:
            self._call_indexes.add(index)  # a call that arrived whole, without an added event
            self._add_call(index, item)
            return True
        return False

    def _add_call(self, index: Any, item: Any) -> None:
        self._close_text()
        self._emit(
            self.acc.handle_tool_call_delta(
                index=index,
                call_id=_str(getattr(item, "call_id", None)),
                name=_str(getattr(item, "name", None)),
                arguments=_str(getattr(item, "arguments", None)),
            )
        )

    def _terminal(self, kind: str, response: Any) -> None:
        if kind == "response.incomplete" and self.incomplete_is_failure:
            reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
            raise IncompleteStream(f"the provider ended the stream with response.incomplete ({reason or 'no reason given'})")
        self.status = "completed" if kind == "response.completed" else "incomplete"
        self.final = response

    def _emit(self, delta: Any) -> None:
        if self.sink is not None:
            self.sink.emit(delta)

    def _close_text(self) -> None:
        if self.sink is not None:
            self.sink.close_text()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _error_text(error: Any) -> str:
    if error is None:
        return "no details"
    if isinstance(error, dict):
        return str(error.get("message") or error)
    message = getattr(error, "message", None)
    code = getattr(error, "code", None)
    text = str(message or error)
    return f"{code}: {text}" if isinstance(code, str) and code else text


__all__ = [
    "ResponsesEventReader",
    "ResponsesWire",
    "buffered_request",
    "plain_request",
    "response_from_responses",
    "run_responses_stream",
]
