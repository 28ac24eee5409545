"""The sync stream loop: bytes → SSE events → dicts → the wire's reader, touching the guard.

Every wire has one pure reader (`ChatStreamReader`, `ResponsesStreamReader`,
`AnthropicStreamReader`): `feed(event_dict) -> bool` and `finish() -> LLMResponse`, no I/O.
This module owns the loops that feed them, for the two kinds of client:

* a real SDK client: the raw fast path (`read_sse`), over the SDK's own HTTP response opened
  with `with_streaming_response` (auth, base URL, headers, timeouts and status errors stay the SDK's);
* anything else (test doubles, custom clients): the object path (`read_objects`), each object
  turned into the same dicts by `fields.plain`.

An async loop differs only in `async with` / `async for`: the helpers here that are not loops
(`is_sdk_client`, `is_event_stream`, `not_an_event_stream`) are shared by both.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, Protocol

from herald.errors import IncompleteStream
from herald.llm.decode import DecodeError, decode_json
from herald.llm.fields import plain
from herald.llm.guard import RequestGuard
from herald.llm.sdk_errors import provider_message_of
from herald.llm.sdks import loaded_classes
from herald.llm.sse import SSEDecoder
from herald.llm.types import LLMResponse

_DONE = b"[DONE]"


class StreamReader(Protocol):
    """One wire's pure reader of decoded stream events."""

    def feed(self, event: Mapping[str, Any]) -> bool:
        """Apply one event; True when it carried content (which resets the idle timer)."""
        ...

    def finish(self) -> LLMResponse:
        """The answer once the events ended. Raises `IncompleteStream` if it is not complete."""
        ...


def is_sdk_client(client: Any) -> bool:
    """A real openai / anthropic SDK client (sync or async), which gets the raw fast path."""
    return isinstance(client, loaded_classes("OpenAI", "AsyncOpenAI", "Anthropic", "AsyncAnthropic"))


def is_event_stream(content_type: str | None) -> bool:
    """Whether a response's Content-Type is SSE. A missing header is given the benefit of the
    doubt: the events (or their absence) will tell."""
    return content_type is None or content_type.split(";", 1)[0].strip().lower() == "text/event-stream"


def not_an_event_stream(content_type: str | None, body: bytes) -> IncompleteStream:
    """The failure for a 2xx answer that is not SSE (an HTML error page, a JSON body, even a
    JSON error with status 200), naming the provider's message when the body has one."""
    detail = f"Content-Type {content_type}"
    try:
        message = provider_message_of(decode_json(body))
    except DecodeError:
        message = " ".join(body[:200].decode("utf-8", "replace").split())
    return IncompleteStream("not_sse", f"{detail}: {message}" if message else detail)


class SSEFeed:
    """Bytes of one event stream → SSE events → decoded dicts → the wire's reader; no I/O.

    The sync loop (`read_sse`) and the async one (`async_stream_loop.read_sse_async`) differ
    only in how they wait for the next chunk; everything done with a chunk is here.
    """

    __slots__ = ("_decoder", "_feed", "_reader")

    def __init__(self, reader: StreamReader) -> None:
        self._decoder = SSEDecoder()
        self._reader = reader
        self._feed = reader.feed

    def feed(self, chunk: bytes) -> bool | None:
        """Apply the events `chunk` completes: None when it completed none (`[DONE]` is none),
        else whether any carried content (for the stall limits)."""
        content = None
        for event in self._decoder.feed(chunk):
            data = event.data
            if data != _DONE:
                content = self._feed(decode_json(data)) or bool(content)
        return content

    def finish(self) -> LLMResponse:
        """At the end of the body: a last event without its blank line, then the reader's answer."""
        for event in self._decoder.flush():
            if event.data != _DONE:
                self._feed(decode_json(event.data))
        return self._reader.finish()


def read_sse(response: Any, reader: StreamReader, guard: RequestGuard[Any] | None) -> LLMResponse:
    """Read an SDK raw streaming response (`APIResponse`) to its end through `reader`.

    Raises:
        IncompleteStream: not an event stream, or the reader found the answer incomplete.
        The HTTP library's transport errors (translated by the caller's `translate_errors`).
    """
    content_type = response.headers.get("content-type")
    if not is_event_stream(content_type):
        raise not_an_event_stream(content_type, _head(response.iter_bytes()))
    sse = SSEFeed(reader)
    first = True
    for chunk in response.iter_bytes():
        content = sse.feed(chunk)
        if guard is not None and content is not None:
            guard.touch(content=content)
            if first:
                first = False
                guard.wake()  # see the note below
            if guard.abandoned:
                return reader.finish()
    return sse.finish()


HEAD_BYTES = 4096
"""How much of a body that is not SSE is read to name the provider's message: never the whole
of a body that might not end."""


def _head(chunks: Iterable[bytes]) -> bytes:
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    return head[:HEAD_BYTES]


def read_objects(events: Iterable[Any], reader: StreamReader, guard: RequestGuard[Any] | None) -> LLMResponse:
    """Read an iterable of SDK objects or look-alikes (the object path) through `reader`."""
    first = True
    for obj in events:
        content = reader.feed(plain(obj))
        if guard is not None:
            guard.touch(content=content)
            if first:
                first = False
                guard.wake()
            if guard.abandoned:
                break
    return reader.finish()


@contextmanager
def closing_events(events: Any) -> Iterator[Any]:
    """The object path's events, closed (if they can be) when the reading ends, however it ends."""
    try:
        yield events
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()


# Why wake the guard on the first event: its waiting thread sleeps towards the first-byte
# deadline and `touch()` does not wake it, so without this the idle limit would only be
# checked once the (long) first-byte limit expired, and a stream stalling mid-answer would
# hang that long.

__all__ = ["HEAD_BYTES", "SSEFeed", "StreamReader", "closing_events", "is_event_stream", "is_sdk_client", "not_an_event_stream", "read_objects", "read_sse"]
