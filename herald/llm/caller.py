"""One model call: stream → fallback → retry → one attempt, each layer closing what it opened.

`LLMCaller` is wire-neutral. The wire (chat completions, Responses, Anthropic Messages)
knows how to open a stream, which pure reader reads its events, and how to answer plainly;
the caller owns the loop (`stream_loop`) and knows what to do when that goes wrong.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterable, Protocol

from herald.errors import Interrupted, ProviderUnreachable, StreamStalled
from herald.llm.accumulate import StreamAccumulator
from herald.llm.clients import close_client
from herald.llm.fallback import OpenStream, StreamStep, StreamSupportMemory, stream_with_fallback
from herald.llm.guard import RequestGuard
from herald.llm.plain import PlainSteps
from herald.llm.retry import RetryPolicy, call_with_retries
from herald.llm.steps import run_steps
from herald.llm.sdk_errors import translate_errors
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import StreamReader, is_sdk_client, read_objects, read_sse
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse

log = logging.getLogger("herald.llm")


class _DeadKeptConnection(Exception):
    """A kept client failed to connect or was cut off before any answer: send again on a fresh one."""

    def __init__(self, error: ProviderUnreachable) -> None:
        super().__init__(str(error))
        self.error = error


class Wire(Protocol):
    """How one API family is spoken. See `openai_chat.ChatCompletionsWire`."""

    mode: str
    supports_stream_options: bool
    stream_path: str
    """The path a stream is POSTed to, below the client's base URL (the awaited path's lean request)."""

    def build_kwargs(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """Native request kwargs from chat-format history and tools (see `herald.llm.history`)."""
        ...

    def stream_kwargs(self, api_kwargs: dict[str, Any], *, stream_options: bool) -> dict[str, Any]: ...

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]: ...

    def reader(self, acc: StreamAccumulator, sink: DeltaSink) -> StreamReader:
        """This wire's pure reader of decoded events, feeding `acc` and `sink`."""
        ...

    def open_raw(self, client: Any, kwargs: dict[str, Any]) -> Any:
        """The raw fast path: the SDK's `with_streaming_response` context manager (sync or async client)."""
        ...

    def open_objects(self, client: Any, kwargs: dict[str, Any]) -> ContextManager[Iterable[Any]]:
        """The object path, for clients that are not SDK clients: a context manager over event objects."""
        ...

    def send_plain(self, client: Any, kwargs: dict[str, Any]) -> Any:
        """The SDK's plain `create` call: its answer, or a coroutine of it on an async client."""
        ...

    def request_steps(self, kwargs: dict[str, Any]) -> PlainSteps:
        """This wire's plain request as sans-IO steps (see `herald.llm.plain`)."""
        ...

    def request(self, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
        """The plain request on a sync client (`plain.request`)."""
        ...


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
    plain_call: Callable[[dict[str, Any]], Any]
    """The fallback: a plain request with retries (the agent's `_interruptible_api_call`)."""
    normalize: Callable[[Any], LLMResponse]
    is_interrupted: Callable[[], bool]
    discard_client: Callable[[Any], None] = close_client
    """The client's request was abandoned mid-flight (interrupt, stall): close it, never reuse it."""
    client_was_kept: Callable[[Any], bool] = lambda client: False
    """Whether the client served a request before (its connection may have been closed since)."""
    discard_stale: Callable[[Any], None] = close_client
    """A kept client's connection was dead: close it, and the endpoint's other kept ones."""


@dataclass
class LLMCaller:
    hooks: CallHooks
    timeouts: StreamTimeouts = field(default_factory=StreamTimeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    memory: StreamSupportMemory = field(default_factory=StreamSupportMemory)
    request_timeout: float | None = None
    """Wall-clock bound on one plain request (a fallback's too). The HTTP timeout is per read:
    a server trickling bytes would never trip it."""

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

    def _interruptible_sleep(self, seconds: float) -> bool:
        self._sleep_wake.clear()
        if self.hooks.is_interrupted():
            return True
        self._sleep_wake.wait(seconds)
        return self.hooks.is_interrupted()

    # ── streaming with fallback ─────────────────────────────────────────

    def stream(self, api_kwargs: dict[str, Any], sink: DeltaSink) -> LLMResponse:
        """Stream the answer to `sink`; on any stream failure, fall back to one plain request."""
        hooks = self.hooks
        wire = hooks.wire()
        steps = stream_with_fallback(wire, self.memory, api_kwargs, sink, endpoint=hooks.endpoint(), secrets=hooks.secrets())
        return run_steps(steps, lambda step: self._perform(wire, step, sink))

    def _perform(self, wire: Wire, step: StreamStep, sink: DeltaSink) -> LLMResponse:
        if isinstance(step, OpenStream):
            return self._stream_once(wire, step.kwargs, sink)
        return self.hooks.normalize(self.hooks.plain_call(step.api_kwargs))

    def _stream_once(self, wire: Wire, kwargs: dict[str, Any], sink: DeltaSink) -> LLMResponse:
        return self._on_a_live_connection("stream", lambda client: self._stream_on(client, wire, kwargs, sink))

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

    def _stream_on(self, client: Any, wire: Wire, kwargs: dict[str, Any], sink: DeltaSink) -> LLMResponse:
        hooks = self.hooks
        where = hooks.endpoint()[1]
        acc = StreamAccumulator()
        kept, dead = hooks.client_was_kept(client), False

        def abandon() -> None:
            sink.abandon()
            hooks.discard_client(client)

        def work(guard: RequestGuard[LLMResponse]) -> LLMResponse:
            with translate_errors(where=where, secrets=hooks.secrets()):
                reader = wire.reader(acc, sink)
                if is_sdk_client(client):
                    with wire.open_raw(client, kwargs) as response:
                        return read_sse(response, reader, guard)
                with wire.open_objects(client, kwargs) as events:
                    return read_objects(events, reader, guard)

        guard: RequestGuard[LLMResponse] = RequestGuard(
            timeouts=self.timeouts, is_interrupted=hooks.is_interrupted, on_abandon=abandon, name="herald-stream"
        )
        self._track(guard, True)
        try:
            return guard.run(work)
        except Interrupted as exc:
            raise Interrupted(partial=partial_answer(acc)) from exc
        except ProviderUnreachable as exc:
            if kept and not exc.timed_out and not guard.got_a_byte:
                dead = True
                raise _DeadKeptConnection(exc) from None
            raise
        finally:
            self._track(guard, False)
            if not (guard.abandoned or dead):
                hooks.close_client(client)

    # ── plain requests ──────────────────────────────────────────────────

    def request(self, api_kwargs: dict[str, Any]) -> LLMResponse:
        """One plain (non-streaming) request, retried on transient failures, interruptible."""
        wire = self.hooks.wire()
        kwargs = wire.plain_kwargs(api_kwargs)
        return call_with_retries(lambda: self._request_once(wire, kwargs), policy=self.retry, sleep=self._interruptible_sleep)

    def _request_once(self, wire: Wire, kwargs: dict[str, Any]) -> LLMResponse:
        return self._on_a_live_connection("request", lambda client: self._request_on(client, wire, kwargs))

    def _request_on(self, client: Any, wire: Wire, kwargs: dict[str, Any]) -> LLMResponse:
        hooks = self.hooks
        where = hooks.endpoint()[1]
        kept, dead = hooks.client_was_kept(client), False

        def work(guard: RequestGuard[LLMResponse]) -> LLMResponse:
            with translate_errors(where=where, secrets=hooks.secrets()):
                return wire.request(client, kwargs)

        guard: RequestGuard[LLMResponse] = RequestGuard(
            timeouts=StreamTimeouts(first_byte=None, idle=None, total=self.request_timeout),
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


def request_timed_out(where: str, stall: StreamStalled) -> ProviderUnreachable:
    """A plain request that outlived `request_timeout`: retryable, as the SDK's own timeout is."""
    return ProviderUnreachable.timeout(f"{where} timed out: no complete answer within {stall.seconds:g}s")


def partial_answer(acc: StreamAccumulator) -> LLMResponse:
    """What was received before an interrupt. Half-streamed tool calls are dropped: never run them."""
    response = acc.build(state="interrupted")
    response.message.tool_calls = None
    return response


__all__ = ["CallHooks", "LLMCaller", "Wire", "partial_answer", "request_timed_out"]
