"""The OpenAI Responses wire ("codex_responses"): OpenAI, Azure, Codex backends, vLLM…

Streams `responses.create(stream=True)`: through the SDK's raw response for a real SDK client,
through `responses.stream(...)`'s objects otherwise. Its fallback is a *buffered* stream (the
same request read to its terminal event, no callbacks), because some Codex backends reject
`stream: false`; a plain `stream: false` request is used only when the buffered one is refused
as a request-shape error (4xx), or always when the wire is built with `fallback="plain"`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Literal, Mapping

import openai

from herald.errors import (
    BadResponse,
    IncompleteStream,
    ProviderError,
    ProviderUnreachable,
)
from herald.llm.accumulate import StreamAccumulator
from herald.llm.fallback import rejects_streaming
from herald.llm.fields import plain
from herald.llm.guard import RequestGuard
from herald.llm.history import to_responses_input, to_responses_tools
from herald.llm import plain as plain_requests
from herald.llm.openai_chat import error_text
from herald.llm.wire import OnHeaders, PlainSteps, ReadBuffered, SendPlain
from herald.llm.responses_output import settle_final
from herald.llm.sdk_errors import status_error
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import closing_events, is_sdk_client, read_objects, read_sse
from herald.llm.types import LLMResponse, ResponseState

FallbackKind = Literal["auto", "buffered", "plain"]

_REASONING_DELTAS = frozenset({"response.reasoning_summary_text.delta", "response.reasoning_text.delta"})
_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.refusal.delta"})
_META_EVENTS = frozenset({"response.created", "response.in_progress", "response.queued"})


class ResponsesWire:
    """Requests, streams and answers in the OpenAI Responses format.

    Args:
        fallback: the replacement request: "auto" (buffered stream, then `stream: false`
            if that is refused), "buffered" (buffered stream only) or "plain" (`stream: false` only).
    """

    mode = "codex_responses"
    supports_stream_options = False
    stream_path = "/responses"

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
        # The openers set `stream` themselves (`responses.stream()` rejects it as an argument).
        return self.plain_kwargs(api_kwargs)

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]:
        # A chat-style `stream_options` ({"include_usage": …}) is not valid here.
        return {k: v for k, v in api_kwargs.items() if k not in ("stream", "stream_options")}

    def reader(self, acc: StreamAccumulator, sink: DeltaSink) -> ResponsesStreamReader:
        return ResponsesStreamReader(acc, sink)

    def open_raw(self, client: Any, kwargs: dict[str, Any]) -> Any:
        return open_responses_stream(client, kwargs)

    @contextmanager
    def open_objects(self, client: Any, kwargs: dict[str, Any]) -> Iterator[Any]:
        """The events of `responses.stream(...)`, the SDK's helper (or a double shaped like it)."""
        with client.responses.stream(**kwargs) as stream:
            yield _with_final_response(stream)

    def send_plain(self, client: Any, kwargs: dict[str, Any], *, raw: bool = False) -> Any:
        """The SDK's `stream: false` `create`: a Response (a coroutine of one, on an async client); `raw`: its raw response."""
        return (client.responses.with_raw_response if raw else client.responses).create(**kwargs)

    def request_steps(self, kwargs: dict[str, Any]) -> PlainSteps:
        """The fallback: a buffered stream, or a plain request (see the module docstring)."""
        kwargs = self.plain_kwargs(kwargs)  # idempotent; the buffered request sets `stream` itself
        if self.fallback != "plain":
            try:
                return (yield ReadBuffered(kwargs))
            except (openai.APIStatusError, ProviderError) as error:
                if self.fallback == "buffered" or not _refuses_streaming(error):
                    raise
        return response_from_responses((yield SendPlain(kwargs)))

    def request(self, client: Any, kwargs: dict[str, Any], *, on_headers: OnHeaders | None = None) -> LLMResponse:
        return plain_requests.request(self, client, kwargs, read_buffered=buffered_request, on_headers=on_headers)


def open_responses_stream(client: Any, kwargs: dict[str, Any]) -> Any:
    """The SDK's raw streaming response for a Responses call, as a context manager: `with` on an
    `OpenAI` client, `async with` on an `AsyncOpenAI` one. The request goes out on entry."""
    return client.responses.with_streaming_response.create(**kwargs, stream=True)


def _with_final_response(stream: Any) -> Iterator[Any]:
    """The helper's events; a terminal event without its response object gets the helper's
    own snapshot (`get_final_response()`), as the reference contract's double provides it."""
    for event in stream:
        if getattr(event, "type", None) == "response.completed" and getattr(event, "response", None) is None:
            final = stream.get_final_response() if callable(getattr(stream, "get_final_response", None)) else None
            yield {"type": "response.completed", "response": plain(final)}
        else:
            yield event


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
    kwargs = wire.stream_kwargs(api_kwargs, stream_options=False)
    reader = wire.reader(StreamAccumulator(), sink)
    if is_sdk_client(client):
        with wire.open_raw(client, kwargs) as response:
            return read_sse(response, reader, guard)
    with wire.open_objects(client, kwargs) as events:
        return read_objects(events, reader, guard)


def buffered_request(client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """`responses.create(stream=True)` consumed to its terminal event, delivering nothing.

    Raises:
        ProviderUnreachable: the connection ended before the terminal event (retryable).
        BadResponse: no events at all, not an event stream, `response.failed`, or an `error` event.
    """
    reader = buffered_reader()
    with buffered_failures():
        if is_sdk_client(client):
            with open_responses_stream(client, kwargs) as raw:
                response = read_sse(raw, reader, None)
        else:
            with closing_events(client.responses.create(**kwargs, stream=True)) as events:
                response = read_objects(events, reader, None)
    response.streamed = False
    return response


def buffered_reader() -> ResponsesStreamReader:
    """The reader of a buffered request: it delivers nothing, and `response.incomplete` is an answer."""
    return ResponsesStreamReader(StreamAccumulator(), DeltaSink(), incomplete_is_failure=False)


@contextmanager
def buffered_failures() -> Iterator[None]:
    """How a buffered request's stream failures are reported: a cut is retryable, the rest is a bad answer."""
    try:
        yield
    except IncompleteStream as exc:
        if exc.reason == "no_finish":
            raise ProviderUnreachable(f"the buffered Responses stream was cut: {exc}") from None
        raise BadResponse(str(exc)) from None


def plain_request(client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """A `stream: false` Responses request.

    Raises:
        BadResponse: the answer is not a response object, or its status is "failed".
    """
    return response_from_responses(client.responses.create(**kwargs))


def response_from_responses(response: Any) -> LLMResponse:
    """Read a non-streaming Responses `Response` into `LLMResponse`."""
    data = plain(response)
    if not isinstance(data, dict) or data.get("output") is None:
        raise BadResponse(f"the provider's answer is not a Responses object: {str(response)[:200]}")
    if data.get("status") == "failed":
        raise BadResponse(f"the response failed: {_error_text(data.get('error'))}")
    acc = StreamAccumulator()
    state = settle_final(acc, data)
    return acc.build(state=state, streamed=False)


class ResponsesStreamReader:
    """Feeds Responses stream event dicts to an accumulator and the sink. No I/O.

    Args:
        incomplete_is_failure: `response.incomplete` fails a live stream (so that the fallback
            gets its chance), but is a truncated answer in the buffered fallback itself.

    Raises (from `feed`):
        IncompleteStream: `response.failed`, an `error` event, or (live) `response.incomplete`.
    """

    def __init__(self, acc: StreamAccumulator, sink: DeltaSink, *, incomplete_is_failure: bool = True) -> None:
        self.acc = acc
        self.sink = sink
        self.incomplete_is_failure = incomplete_is_failure
        self._state: ResponseState = "complete"
        self._reasoning_part: Any = None
        """Which summary / content part the last reasoning delta belonged to."""

    def feed(self, event: Mapping[str, Any]) -> bool:
        """Apply one event; True when it carried content (resets the idle timer)."""
        acc = self.acc
        acc.events_seen = True
        kind = event.get("type")
        if kind in _TEXT_DELTAS:
            self.sink.emit(acc.handle_text_delta(text=_text(event.get("delta"))))
            return True
        if kind in _REASONING_DELTAS:
            return self._reasoning(event)
        if kind == "response.function_call_arguments.delta":
            self.sink.close_text()
            acc.handle_tool_call_delta(index=event.get("output_index"), arguments=_text(event.get("delta")))
            return True
        if kind == "response.output_item.added":
            return self._item_added(event)
        if kind == "response.output_item.done":
            return self._item_done(event)
        if kind in _META_EVENTS:
            response = event.get("response") or {}
            acc.handle_meta(response_id=_str(response.get("id")), model=_str(response.get("model")))
        elif kind == "response.completed" or kind == "response.incomplete":
            self._terminal(kind, event.get("response"))
        elif kind == "response.failed":
            error = (event.get("response") or {}).get("error")
            raise IncompleteStream("failed", _error_text(error))
        elif kind == "error":
            raise IncompleteStream("error_event", _error_text(event.get("error") or event))
        return False

    def finish(self) -> LLMResponse:
        """The answer. Raises `IncompleteStream` if no event or no terminal event arrived."""
        return self.acc.complete(state=self._state)

    def _reasoning(self, event: Mapping[str, Any]) -> bool:
        part = (event.get("item_id"), event.get("summary_index"), event.get("content_index"))
        text = _text(event.get("delta"))
        if self._reasoning_part is not None and part != self._reasoning_part and text:
            text = "\n\n" + text  # a new summary part: keep parts apart, as the final output does
        self._reasoning_part = part
        self.sink.emit(self.acc.handle_reasoning_delta(text=text))
        return True

    def _item_added(self, event: Mapping[str, Any]) -> bool:
        item = event.get("item") or {}
        if item.get("type") != "function_call":
            return False
        self._add_call(event.get("output_index"), item)
        return True

    def _item_done(self, event: Mapping[str, Any]) -> bool:
        item = event.get("item")
        if not item:
            return False
        index = event.get("output_index")
        self.acc.handle_item_done(index=index, item=item)
        if item.get("type") == "function_call" and not self.acc.has_call(index):
            self._add_call(index, item)  # a call that arrived whole, without an added event
            return True
        return False

    def _add_call(self, index: Any, item: Mapping[str, Any]) -> None:
        self.sink.close_text()
        self.sink.emit(
            self.acc.handle_tool_call_delta(
                index=index,
                call_id=_str(item.get("call_id")),
                name=_str(item.get("name")),
                arguments=_str(item.get("arguments")),
            )
        )

    def _terminal(self, kind: str, response: Mapping[str, Any] | None) -> None:
        if kind == "response.incomplete" and self.incomplete_is_failure:
            details = (response or {}).get("incomplete_details") or {}
            raise IncompleteStream("incomplete", _str(details.get("reason")) or "no reason given")
        if kind == "response.incomplete":
            response = {**(response or {}), "status": "incomplete"}
        self._state = settle_final(self.acc, response)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _error_text(error: Any) -> str:
    return "no details" if not error else error_text(error)


__all__ = [
    "ResponsesStreamReader",
    "ResponsesWire",
    "buffered_failures",
    "buffered_reader",
    "buffered_request",
    "open_responses_stream",
    "plain_request",
    "response_from_responses",
    "run_responses_stream",
]
