"""One provider's awaited transport: one request at a time, no decisions (as `caller.LLMCaller`).

It sends what the attempt planner (`herald.llm.planner`) decided — one stream or one plain
request — on an async SDK client the owner leased, and reports its answer or its error. The
decisions, the wires' pure readers, `sdk_errors` (how errors are worded, keys scrubbed) and
`sink` (how deltas reach consumers) are the blocking path's, the same code. Only the waiting
differs: no worker thread, a `StallWatch` for the time limits, and cancellation as the
interrupt (the request's response is closed on the way out, and with it its connection).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from herald.errors import ProviderUnreachable, StreamStalled
from herald.llm.accumulate import StreamAccumulator
from herald.llm.async_guard import StallWatch
from herald.llm.async_requests import request_async
from herald.llm.async_stream_loop import open_stream, read_sse_async
from herald.llm.caller import cut_stream, partial_answer, request_timed_out
from herald.llm.sdk_errors import translate_errors
from herald.llm.sink import DeltaSink
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse
from herald.llm.wire import Wire

OnCancel = Callable[[LLMResponse], None]


@dataclass
class AsyncLLMCaller:
    """Requests to one provider, on async SDK clients the owner passes in (shared by conversations).

    Attributes:
        wire: the provider's wire (looked up per call).
        endpoint: (base URL, host label) of the provider.
        secrets: values scrubbed from errors and logs.
        timeouts / request_timeout: limits used when the planner gives none.
        on_headers: receives each response's headers (a stream's as it opens).
    """

    wire: Callable[[], Wire]
    endpoint: Callable[[], tuple[str, str]]
    secrets: Callable[[], tuple[str | None, ...]]
    timeouts: StreamTimeouts = field(default_factory=StreamTimeouts)
    request_timeout: float | None = None
    on_headers: Callable[[Mapping[str, str]], object] = lambda headers: None
    """Each response's headers, a stream's as it opens (the owner learns which server answers)."""

    async def stream_once(
        self,
        client: Any,
        api_kwargs: dict[str, Any],
        sink: DeltaSink,
        *,
        stream_options: bool = True,
        timeouts: StreamTimeouts | None = None,
        on_cancel: OnCancel | None = None,
    ) -> LLMResponse:
        """Stream one request to `sink`: its answer, or its error.

        `on_cancel` receives the partial answer when the task is cancelled mid-stream.
        """
        wire = self.wire()
        kwargs = wire.stream_kwargs(api_kwargs, stream_options=stream_options and wire.supports_stream_options)
        acc = StreamAccumulator()
        reader = wire.reader(acc, sink)
        limits = timeouts or self.timeouts
        watch = StallWatch(limits)
        try:
            async with watch:
                with translate_errors(where=self.endpoint()[1], secrets=self.secrets()):
                    async with open_stream(client, wire.stream_path, kwargs, timeout=limits.socket_timeout(self.request_timeout)) as response:
                        self.on_headers(response.headers)
                        answer = await read_sse_async(response, reader, watch)
            answer.extras["first_chunk_s"] = watch.first_chunk_s
            return answer
        except ProviderUnreachable as exc:
            raise cut_stream(exc) if watch.got_a_byte and not exc.timed_out else exc
        except asyncio.CancelledError:
            sink.abandon()
            if on_cancel is not None:
                on_cancel(partial_answer(acc, sink))
            raise

    async def request_once(self, client: Any, api_kwargs: dict[str, Any], *, timeout: float | None = None) -> LLMResponse:
        """One plain request: its answer or its error; cancelling stops it."""
        wire = self.wire()
        kwargs = wire.plain_kwargs(api_kwargs)
        where = self.endpoint()[1]
        total = timeout if timeout is not None else self.request_timeout
        try:
            async with StallWatch(StreamTimeouts(first_byte=None, idle=None, total=total)):
                with translate_errors(where=where, secrets=self.secrets()):
                    return await request_async(wire, client, kwargs, on_headers=self.on_headers)
        except StreamStalled as exc:
            raise request_timed_out(where, exc) from None
        raise AssertionError("unreachable")


__all__ = ["AsyncLLMCaller", "OnCancel"]
