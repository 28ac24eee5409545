"""One streamed answer, from Herald's call events to the client's SSE, with the status held.

Until the first content exists nothing is sent: a failed attempt before it is replaced by the
planner and the client never knows, and a call that fails for good still gets a real status
(429 / 503 / the provider's 4xx) with an error body. Only after `keepalive_after` seconds of
waiting does the gateway commit a 200 and send SSE comments to keep the connection open.

After content: a `continued` event is seamless (the text goes on in place); a `reset` (the
answer is being replaced) or a failure ends the stream with an in-band error event and without
`[DONE]` / `message_stop`, so no client takes a truncated answer for a complete one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncIterator, Protocol

from aiohttp import web

from herald.llm.types import LLMResponse
from herald.serve.call import Failure, failure_for

log = logging.getLogger("herald.serve")

REPLACED = Failure(
    502, "api_error", "api_error",
    "the provider's stream broke after part of the answer was sent and could not be continued; the answer is incomplete",
)


class Writer(Protocol):
    """What `ChatWriter`, `MessagesWriter` and `ResponsesWriter` offer."""

    media_type: str

    def preamble(self) -> bytes: ...
    def text(self, text: str) -> bytes: ...
    def reasoning(self, text: str) -> bytes: ...
    def finish(self, response: LLMResponse) -> bytes: ...
    def error(self, failure: Failure) -> bytes: ...
    def keepalive(self) -> bytes: ...


class Outcome:
    """How one relayed stream ended, for the metrics and the log."""

    def __init__(self) -> None:
        self.status = 200
        self.first_content_s: float | None = None
        self.in_band_error = False
        self.continuations = 0  # cuts continued in place


async def relay(
    request: web.Request,
    events: AsyncIterator[Any],
    writer: Writer,
    *,
    keepalive_after: float,
    error_response: Any,
    secrets: tuple[str, ...],
) -> tuple[web.StreamResponse, Outcome]:
    """Stream `events` (an `AsyncClient.stream` iterator) to the client as `writer`'s SSE.

    `error_response(failure)` makes the non-2xx response for a call that fails before the status
    is committed. Cancellation (the client went away, or shutdown) propagates after the upstream
    iterator is closed, which closes its connection.
    """
    started = time.perf_counter()
    outcome = Outcome()
    response: web.StreamResponse | None = None
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        try:
            held = _HeldReader(events)
            while True:  # held: nothing sent until content, unless the wait is long
                first = await held.next(keepalive_after or None)
                if first is None:
                    response = response or await _commit(request, writer)
                    await response.write(writer.keepalive())
                elif first.kind in ("text", "reasoning", "done"):
                    break
            response = response or await _commit(request, writer)
            outcome.first_content_s = time.perf_counter() - started
            if first.kind == "done":  # an answer without streamed content (e.g. only tool calls)
                await response.write(writer.preamble() + whole_answer(writer, first.response) + writer.finish(first.response))
                return response, outcome
            await response.write(writer.preamble() + _content(writer, first))
            async for event in events:
                kind = event.kind
                if kind == "text":
                    await response.write(writer.text(event.text))
                elif kind == "reasoning":
                    await response.write(writer.reasoning(event.text))
                elif kind == "done":
                    await response.write(writer.finish(event.response))
                    return response, outcome
                elif kind == "reset":  # the sent text is void: it cannot be taken back from the client
                    outcome.in_band_error = True
                    await response.write(writer.error(REPLACED))
                    return response, outcome
                elif kind == "continued":  # the stream was cut and goes on in place: nothing to tell the client
                    outcome.continuations += 1
                # "attempt": nothing to tell the client either
        except Exception as error:  # the call failed for good (a herald.errors exception)
            if isinstance(error, ConnectionError):  # the client went away: the upstream closes on the way out
                outcome.status = 499
                return response or web.Response(status=499), outcome
            failure = failure_for(error, secrets)
            log.info("call failed: %s", failure.message)
            if response is None:
                outcome.status = failure.status
                return error_response(failure), outcome
            outcome.in_band_error = True
            await response.write(writer.error(failure))
            return response, outcome
    raise AssertionError("the call's events ended without a done event")


def whole_answer(writer: Writer, response: LLMResponse) -> bytes:
    """The reasoning and text of an answer that arrived without streamed pieces."""
    message = response.message
    return (writer.reasoning(message.reasoning_content) if message.reasoning_content else b"") + (
        writer.text(message.content) if message.content else b""
    )


def _content(writer: Writer, event: Any) -> bytes:
    return writer.text(event.text) if event.kind == "text" else writer.reasoning(event.text)


async def _commit(request: web.Request, writer: Writer) -> web.StreamResponse:
    """Send the 200 and the SSE headers: from here on, errors are in-band."""
    response = web.StreamResponse(
        status=200, headers={"Content-Type": writer.media_type, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    return response


class _HeldReader:
    """Reads the call's events with a timeout that does not cancel the read: on a timeout the same
    read goes on at the next call (cancelling it would close the upstream stream)."""

    def __init__(self, events: AsyncIterator[Any]) -> None:
        self._events = events
        self._next: asyncio.Future[Any] | None = None

    async def next(self, wait: float | None) -> Any | None:
        """The next event, or None after `wait` seconds without one."""
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self._events))
        try:
            done, _ = await asyncio.wait({self._next}, timeout=wait)
        except asyncio.CancelledError:
            self._next.cancel()
            with contextlib.suppress(BaseException):
                await self._next
            raise
        if not done:
            return None
        step, self._next = self._next, None
        return step.result()


__all__ = ["Outcome", "REPLACED", "Writer", "relay", "whole_answer"]
