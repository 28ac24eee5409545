"""One awaited model call: stream → fallback → retry → one attempt, as `caller.LLMCaller` does.

The decisions are the sync caller's, with the same helpers: what a failure teaches about the
endpoint (`fallback`), what is retried and how long to wait (`retry`), how errors are worded
and keys scrubbed (`sdk_errors`, `redact`), how deltas reach consumers (`sink`). The wires'
pure readers read the events unchanged. Only the waiting differs: no worker thread, a
`StallWatch` for the time limits, `asyncio.sleep` between retries, and cancellation as the
interrupt (the request's response is closed on the way out, and with it its connection).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from herald.errors import ProviderUnreachable, StreamStalled
from herald.llm.accumulate import StreamAccumulator
from herald.llm.async_guard import StallWatch
from herald.llm.async_requests import plain_request_async
from herald.llm.async_retry import call_with_retries_async
from herald.llm.async_stream_loop import open_raw_async, read_sse_async
from herald.llm.caller import Wire
from herald.llm.fallback import StreamSupportMemory, rejects_stream_options, rejects_streaming
from herald.llm.redact import redact
from herald.llm.retry import RetryPolicy
from herald.llm.sdk_errors import translate_errors
from herald.llm.sink import DeltaSink
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse

log = logging.getLogger("herald.llm")


@dataclass
class AsyncLLMCaller:
    """Model calls on an async SDK client the caller owns (one shared client per loop).

    Attributes:
        wire: the current wire (looked up per call).
        endpoint: (base URL, host label) of the current endpoint.
        secrets: values scrubbed from errors and logs.
        memory: what endpoints taught (shared by every conversation of the agent).
    """

    wire: Callable[[], Wire]
    endpoint: Callable[[], tuple[str, str]]
    secrets: Callable[[], tuple[str | None, ...]]
    timeouts: StreamTimeouts = field(default_factory=StreamTimeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    memory: StreamSupportMemory = field(default_factory=StreamSupportMemory)
    request_timeout: float | None = None

    # ── streaming with fallback ─────────────────────────────────────────

    async def stream(
        self, client: Any, api_kwargs: dict[str, Any], sink: DeltaSink, *, on_cancel: Callable[[LLMResponse], None]
    ) -> LLMResponse:
        """Stream the answer to `sink`; on any stream failure, fall back to one plain request.

        `on_cancel` receives the partial answer when the task is cancelled mid-stream.
        """
        wire = self.wire()
        base_url, where = self.endpoint()
        support = self.memory.get(base_url, str(api_kwargs.get("model", "")))
        if not support.stream:
            return await self._deliver_fallback(client, api_kwargs, sink, reason=None)
        use_options = wire.supports_stream_options and support.stream_options
        try:
            try:
                kwargs = wire.stream_kwargs(api_kwargs, stream_options=use_options)
                return await self._stream_once(client, wire, kwargs, sink, on_cancel)
            except Exception as error:
                if not (use_options and rejects_stream_options(error) and not sink.delivered):
                    raise
                support.stream_options = False
                log.info("%s rejected stream_options; streaming without them from now on", where)
                kwargs = wire.stream_kwargs(api_kwargs, stream_options=False)
                return await self._stream_once(client, wire, kwargs, sink, on_cancel)
        except Exception as error:
            sink.abandon()  # a stream's late deltas must never follow its replacement
            response = await self._deliver_fallback(client, api_kwargs, sink, reason=error)
            if rejects_streaming(error) and not sink.delivered:
                support.stream = False
                log.info("%s does not stream; using plain requests from now on", where)
            return response

    async def _stream_once(
        self, client: Any, wire: Wire, kwargs: dict[str, Any], sink: DeltaSink, on_cancel: Callable[[LLMResponse], None]
    ) -> LLMResponse:
        acc = StreamAccumulator()
        reader = wire.reader(acc, sink)
        try:
            async with StallWatch(self.timeouts) as watch:
                with translate_errors(where=self.endpoint()[1], secrets=self.secrets()):
                    async with open_raw_async(client, wire.mode, kwargs) as response:
                        return await read_sse_async(response, reader, watch)
        except asyncio.CancelledError:
            sink.abandon()
            on_cancel(_partial(acc))
            raise
        raise AssertionError("unreachable")  # mypy: `async with` may swallow, these do not

    async def _deliver_fallback(
        self, client: Any, api_kwargs: dict[str, Any], sink: DeltaSink, *, reason: BaseException | None
    ) -> LLMResponse:
        """Replace a failed (or skipped) stream with a plain request; its error propagates."""
        secrets = self.secrets()
        if reason is not None:
            log.info(
                "streaming from %s failed (%s: %s); falling back to a plain request",
                self.endpoint()[1],
                type(reason).__name__,
                redact(str(reason), secrets),
            )
        response = await self.request(client, api_kwargs)
        if reason is not None:
            response.extras["fallback_reason"] = redact(f"{type(reason).__name__}: {reason}", secrets)
        if sink.delivered:
            sink.reset()
        message = response.message
        sink.replay(text=message.content, reasoning=message.reasoning_content)
        return response

    # ── plain requests ──────────────────────────────────────────────────

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
                    return await plain_request_async(wire, client, kwargs)
        except StreamStalled as exc:
            # Retryable, as the SDK's own timeout is.
            raise ProviderUnreachable(f"{where} timed out: no complete answer within {exc.seconds:g}s") from None
        raise AssertionError("unreachable")


def _partial(acc: StreamAccumulator) -> LLMResponse:
    """What was received before the cancellation. Half-streamed tool calls are dropped: never run them."""
    response = acc.build(state="interrupted")
    response.message.tool_calls = None
    return response


__all__ = ["AsyncLLMCaller"]
