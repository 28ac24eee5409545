"""One provider's blocking transport: one request at a time, no decisions.

`LLMCaller` sends what the attempt planner (`herald.llm.planner`) decided — one stream or
one plain request — and reports its answer or its error; what happens next is the
planner's. The wire (chat completions, Responses, Anthropic Messages) knows how to open a
stream, which pure reader reads its events, and how to answer plainly; the caller owns the
loop (`stream_loop`), the request's client, and the worker thread that lets an interrupt
return at once (`guard`).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from herald.errors import IncompleteStream, Interrupted, ProviderUnreachable, StreamStalled
from herald.llm.accumulate import StreamAccumulator
from herald.llm.clients import close_client
from herald.llm.guard import RequestGuard
from herald.llm.sdk_errors import translate_errors
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import StreamReader, is_sdk_client, read_objects, read_sse
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse
from herald.llm.wire import Wire

log = logging.getLogger("herald.llm")


class _DeadKeptConnection(Exception):
    """A kept client failed to connect or was cut off before any answer: send again on a fresh one."""

    def __init__(self, error: ProviderUnreachable) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class CallHooks:
    """The seams an owner (the agent) provides; looked up per call so they can be patched."""

    wire: Callable[[], Wire]
    endpoint: Callable[[], tuple[str, str]]
    """(base URL, host label) of the current endpoint."""
    secrets: Callable[[], tuple[str | None, ...]]
    create_client: Callable[[str], Any]
    close_client: Callable[[Any], None]
    """The client's request ended (answered or failed): the owner may keep it for the next."""
    normalize: Callable[[Any], LLMResponse]
    is_interrupted: Callable[[], bool]
    discard_client: Callable[[Any], None] = close_client
    """The client's request was abandoned mid-flight (interrupt, stall): close it, never reuse it."""
    client_was_kept: Callable[[Any], bool] = lambda client: False
    """Whether the client served a request before (its connection may have been closed since)."""
    discard_stale: Callable[[Any], None] = close_client
    """A kept client's connection was dead: close it, and the endpoint's other kept ones."""
    on_headers: Callable[[Mapping[str, str]], object] = lambda headers: None
    """Each response's headers, a stream's as it opens (the owner learns which server answers)."""


@dataclass
class LLMCaller:
    """One provider's requests, each on a client of its own (kept for the next once it ended).

    Attributes:
        hooks: the owner's seams (client creation, the wire, redaction).
        timeouts: stall limits of a stream sent without the planner's (`stream_once`'s default).
        request_timeout: wall-clock bound on a plain request sent without the planner's.
    """

    hooks: CallHooks
    timeouts: StreamTimeouts = field(default_factory=StreamTimeouts)
    request_timeout: float | None = None

    def __post_init__(self) -> None:
        self._guards: set[RequestGuard[Any]] = set()
        self._guards_lock = threading.Lock()
        self._sleep_wake = threading.Event()

    # ── interrupts ──────────────────────────────────────────────────────

    def wake(self) -> None:
        """Make every wait in flight re-check the interrupt flag now."""
        with self._guards_lock:
            guards = list(self._guards)
        for guard in guards:
            guard.wake()
        self._sleep_wake.set()

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; True (at once) when interrupted meanwhile."""
        self._sleep_wake.clear()
        if self.hooks.is_interrupted():
            return True
        self._sleep_wake.wait(seconds)
        return self.hooks.is_interrupted()

    # ── one request ─────────────────────────────────────────────────────

    def stream_once(
        self, api_kwargs: dict[str, Any], sink: DeltaSink, *, stream_options: bool = True, timeouts: StreamTimeouts | None = None
    ) -> LLMResponse:
        """Stream one request to `sink`: its answer, or its error (nothing is retried or replaced here).

        Raises:
            herald.errors.Interrupted: `.partial` holds what arrived.
            herald.errors.StreamStalled: a time limit passed.
            The stream's error otherwise (translated at `sdk_errors`).
        """
        wire = self.hooks.wire()
        kwargs = wire.stream_kwargs(api_kwargs, stream_options=stream_options and wire.supports_stream_options)
        limits = timeouts or self.timeouts
        return self._on_a_live_connection("stream", lambda client: self._stream_on(client, wire, kwargs, sink, limits))

    def request_once(self, api_kwargs: dict[str, Any], *, timeout: float | None = None) -> LLMResponse:
        """One plain (non-streaming) request: its answer or its error, interruptible."""
        wire = self.hooks.wire()
        kwargs = wire.plain_kwargs(api_kwargs)
        total = timeout if timeout is not None else self.request_timeout
        return self._on_a_live_connection("request", lambda client: self._request_on(client, wire, kwargs, total))

    def _on_a_live_connection(self, reason: str, attempt: Callable[[Any], LLMResponse]) -> LLMResponse:
        # A kept client's connection may have been closed by the server since its last request
        # (idle timeout, or a close right after the answer): the request then fails before any
        # answer, and is sent once more on a fresh client. Nothing was received, so nothing is replayed.
        hooks = self.hooks
        while True:
            client = hooks.create_client(reason)
            try:
                return attempt(client)
            except _DeadKeptConnection as dead:
                hooks.discard_stale(client)
                log.info("%s: a kept connection was closed by the server (%s); sending again on a new one", hooks.endpoint()[1], dead.error)

    def _stream_on(self, client: Any, wire: Wire, kwargs: dict[str, Any], sink: DeltaSink, limits: StreamTimeouts) -> LLMResponse:
        hooks = self.hooks
        where = hooks.endpoint()[1]
        acc = StreamAccumulator()
        kept, dead = hooks.client_was_kept(client), False
        socket_timeout = limits.socket_timeout(self.request_timeout)

        def abandon() -> None:
            sink.abandon()
            hooks.discard_client(client)

        def work(guard: RequestGuard[LLMResponse]) -> LLMResponse:
            with translate_errors(where=where, secrets=hooks.secrets()):
                reader = wire.reader(acc, sink)
                if is_sdk_client(client):
                    with wire.open_raw(client, {**kwargs, "timeout": socket_timeout}) as response:
                        hooks.on_headers(response.headers)
                        return read_sse(response, reader, guard)
                with wire.open_objects(client, kwargs) as events:
                    return read_objects(events, reader, guard)

        guard: RequestGuard[LLMResponse] = RequestGuard(
            timeouts=limits, is_interrupted=hooks.is_interrupted, on_abandon=abandon, name="herald-stream"
        )
        self._track(guard, True)
        try:
            answer = guard.run(work)
            answer.extras["first_chunk_s"] = guard.first_chunk_s
            return answer
        except Interrupted as exc:
            raise Interrupted(partial=partial_answer(acc, sink)) from exc
        except ProviderUnreachable as exc:
            if kept and not exc.timed_out and not guard.got_a_byte:
                dead = True
                raise _DeadKeptConnection(exc) from None
            if guard.got_a_byte and not exc.timed_out:
                raise cut_stream(exc) from exc
            raise
        finally:
            self._track(guard, False)
            if not (guard.abandoned or dead):
                hooks.close_client(client)

    def _request_on(self, client: Any, wire: Wire, kwargs: dict[str, Any], total: float | None) -> LLMResponse:
        hooks = self.hooks
        where = hooks.endpoint()[1]
        kept, dead = hooks.client_was_kept(client), False

        def work(guard: RequestGuard[LLMResponse]) -> LLMResponse:
            with translate_errors(where=where, secrets=hooks.secrets()):
                return wire.request(client, kwargs, on_headers=hooks.on_headers)

        guard: RequestGuard[LLMResponse] = RequestGuard(
            timeouts=StreamTimeouts(first_byte=None, idle=None, total=total),
            is_interrupted=hooks.is_interrupted,
            on_abandon=lambda: hooks.discard_client(client),
            name="herald-request",
        )
        self._track(guard, True)
        try:
            return guard.run(work)
        except StreamStalled as exc:
            raise request_timed_out(where, exc) from None
        except ProviderUnreachable as exc:
            if kept and not exc.timed_out:
                dead = True
                raise _DeadKeptConnection(exc) from None
            raise
        finally:
            self._track(guard, False)
            if not (guard.abandoned or dead):
                hooks.close_client(client)

    def _track(self, guard: RequestGuard[Any], active: bool) -> None:
        with self._guards_lock:
            if active:
                self._guards.add(guard)
            else:
                self._guards.discard(guard)


_PLAIN_TIMEOUT: ContextVar[float | None] = ContextVar("herald_plain_timeout", default=None)


@contextmanager
def plain_timeout(seconds: float | None) -> Iterator[None]:
    """Within the block, a plain request sent through an owner's seam is bounded by `seconds`
    (the planner's bound: the request timeout, capped by the call's time left)."""
    token = _PLAIN_TIMEOUT.set(seconds)
    try:
        yield
    finally:
        _PLAIN_TIMEOUT.reset(token)


def plain_timeout_now(default: float | None) -> float | None:
    """The bound `plain_timeout` set for this request, else `default`."""
    bound = _PLAIN_TIMEOUT.get()
    return bound if bound is not None else default


def cut_stream(error: ProviderUnreachable) -> IncompleteStream:
    """A connection that failed after the stream began: a cut stream (stream-specific), not a dead provider."""
    cut = IncompleteStream("cut", str(error))
    cut.__cause__ = error
    return cut


def request_timed_out(where: str, stall: StreamStalled) -> ProviderUnreachable:
    """A plain request that outlived `request_timeout`: retryable, as the SDK's own timeout is."""
    return ProviderUnreachable.timeout(f"{where} timed out: no complete answer within {stall.seconds:g}s")


def partial_answer(acc: StreamAccumulator, sink: DeltaSink | None = None) -> LLMResponse:
    """What was received before an interrupt. Half-streamed tool calls are dropped: never run them.
    A stream continuing a shown answer (`sink`) has that answer's text in front (`DeltaSink.whole_text`)."""
    response = acc.build(state="interrupted")
    response.message.tool_calls = None
    if sink is not None:
        response.message.content = sink.whole_text(response.message.content)
    return response


__all__ = ["CallHooks", "LLMCaller", "cut_stream", "partial_answer", "plain_timeout", "plain_timeout_now", "request_timed_out"]
