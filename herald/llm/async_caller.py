"""One awaited model call: stream → fallback → retry → one attempt, as `caller.LLMCaller` does.

The decisions are the sync caller's, the same code: `fallback.stream_with_fallback` (when a
stream is replaced by a plain request, what a failure teaches about the endpoint), the
wire's `request_steps` (what a plain request is), `retry`'s policy, `sdk_errors` (how errors
are worded, keys scrubbed), `sink` (how deltas reach consumers), and the wires' pure readers.
Only the waiting differs: no worker thread, a `StallWatch` for the time limits, `asyncio.sleep`
between retries, and cancellation as the interrupt (the request's response is closed on the
way out, and with it its connection).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

from herald.errors import StreamStalled
from herald.llm.accumulate import StreamAccumulator
from herald.llm.async_guard import StallWatch
from herald.llm.async_requests import request_async
from herald.llm.async_retry import call_with_retries_async
from herald.llm.async_stream_loop import open_stream, read_sse_async
from herald.llm.caller import Wire, partial_answer, request_timed_out
from herald.llm.fallback import OpenStream, StreamStep, StreamSupportMemory, stream_with_fallback
from herald.llm.retry import RetryPolicy
from herald.llm.sdk_errors import translate_errors
from herald.llm.sink import DeltaSink
from herald.llm.steps import arun_steps
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse

OnCancel = Callable[[LLMResponse], None]


@dataclass
class AsyncLLMCaller:
    """Model calls to one provider, on an async SDK client the caller owns (shared by conversations).

    Attributes:
        wire: the provider's wire (looked up per call).
        endpoint: (base URL, host label) of the provider.
        secrets: values scrubbed from errors and logs.
        memory: what endpoints taught (shared by every conversation of the agent, and with its sync side).
    """

    wire: Callable[[], Wire]
    endpoint: Callable[[], tuple[str, str]]
    secrets: Callable[[], tuple[str | None, ...]]
    timeouts: StreamTimeouts = field(default_factory=StreamTimeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    memory: StreamSupportMemory = field(default_factory=StreamSupportMemory)
    request_timeout: float | None = None

    async def stream(self, client: Any, api_kwargs: dict[str, Any], sink: DeltaSink, *, on_cancel: OnCancel) -> LLMResponse:
        """Stream the answer to `sink`; on any stream failure, fall back to one plain request.

        `on_cancel` receives the partial answer when the task is cancelled mid-stream.
        """
        wire = self.wire()
        steps = stream_with_fallback(wire, self.memory, api_kwargs, sink, endpoint=self.endpoint(), secrets=self.secrets())

        async def perform(step: StreamStep) -> LLMResponse:
            if isinstance(step, OpenStream):
                return await self._stream_once(client, wire, step.kwargs, sink, on_cancel)
            return await self.request(client, step.api_kwargs)

        return await arun_steps(steps, perform)

    async def _stream_once(
        self, client: Any, wire: Wire, kwargs: dict[str, Any], sink: DeltaSink, on_cancel: OnCancel
    ) -> LLMResponse:
        acc = StreamAccumulator()
        reader = wire.reader(acc, sink)
        try:
            async with StallWatch(self.timeouts) as watch:
                with translate_errors(where=self.endpoint()[1], secrets=self.secrets()):
                    async with open_stream(client, wire.stream_path, kwargs) as response:
                        return await read_sse_async(response, reader, watch)
        except asyncio.CancelledError:
            sink.abandon()
            on_cancel(partial_answer(acc))
            raise
        raise AssertionError("unreachable")  # mypy: `async with` may swallow, these do not

    async def request(self, client: Any, api_kwargs: dict[str, Any]) -> LLMResponse:
        """One plain request, retried on transient failures (async sleeps); cancelling stops it."""
        wire = self.wire()
        kwargs = wire.plain_kwargs(api_kwargs)
        return await call_with_retries_async(lambda: self._request_once(client, wire, kwargs), policy=self.retry)

    async def _request_once(self, client: Any, wire: Wire, kwargs: dict[str, Any]) -> LLMResponse:
        where = self.endpoint()[1]
        try:
            async with StallWatch(StreamTimeouts(first_byte=None, idle=None, total=self.request_timeout)):
                with translate_errors(where=where, secrets=self.secrets()):
                    return await request_async(wire, client, kwargs)
        except StreamStalled as exc:
            raise request_timed_out(where, exc) from None
        raise AssertionError("unreachable")


__all__ = ["AsyncLLMCaller"]
