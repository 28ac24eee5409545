"""Streaming is additive: what Herald learns about an endpoint that streams badly.

A stream that fails for any reason is replaced by one plain request. Two failures say
something lasting about the endpoint and are remembered for the agent's life, so later
calls waste no round-trip: a rejection of `stream_options`, and a rejection of streaming
itself (a 4xx before any chunk, confirmed by the plain request then succeeding).
Transient failures (cut connection, stall, 5xx, 429) say nothing and change nothing.

`stream_with_fallback` is that whole decision for one call, sans-IO: both callers (the sync
`LLMCaller`, the `AsyncLLMCaller`) run it, and differ only in how they stream and wait.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generator, Sequence

from herald.errors import Interrupted, ProviderError
from herald.llm.redact import redact
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse

if TYPE_CHECKING:
    from herald.llm.caller import Wire

log = logging.getLogger("herald.llm")

# Statuses that are about the request's key, model, or rate, not about streaming.
_NOT_ABOUT_STREAMING = {401, 403, 404, 408, 409, 429}


@dataclass
class StreamSupport:
    """What one endpoint (base URL + model) has shown it accepts."""

    stream: bool = True
    """False once the endpoint rejected `stream: true` and answered the plain request."""
    stream_options: bool = True
    """False once the endpoint rejected `stream_options`."""


class StreamSupportMemory:
    """`StreamSupport` per endpoint, learned from failures, for one agent's life."""

    def __init__(self) -> None:
        self._by_endpoint: dict[tuple[str, str], StreamSupport] = {}

    def get(self, base_url: str, model: str) -> StreamSupport:
        return self._by_endpoint.setdefault((base_url, model), StreamSupport())


def rejects_stream_options(error: BaseException) -> bool:
    """A 4xx/5xx whose message names `stream_options`: retry the stream without it."""
    return isinstance(error, ProviderError) and error.status >= 400 and "stream_options" in str(error).lower()


def rejects_streaming(error: BaseException) -> bool:
    """A 4xx that is about the request's shape (not key, model or rate): maybe no streaming here."""
    return isinstance(error, ProviderError) and 400 <= error.status < 500 and error.status not in _NOT_ABOUT_STREAMING


# ── one streamed call's decisions, shared by the sync and async callers ──


@dataclass(frozen=True)
class OpenStream:
    """Stream these (wire-native, `stream_kwargs`) request arguments to the sink; send back the answer."""

    kwargs: dict[str, Any]


@dataclass(frozen=True)
class PlainRequest:
    """Make the plain request (with its retries) for these arguments; send back the answer."""

    api_kwargs: dict[str, Any]


StreamStep = OpenStream | PlainRequest


def stream_with_fallback(
    wire: Wire, memory: StreamSupportMemory, api_kwargs: dict[str, Any], sink: DeltaSink, *, endpoint: tuple[str, str], secrets: Sequence[str | None]
) -> Generator[StreamStep, LLMResponse, LLMResponse]:
    """Stream the call; on any stream failure, replace it with one plain request (see the module docstring).

    A sans-IO generator for `herald.llm.steps`: the sync `LLMCaller` and the `AsyncLLMCaller`
    perform its steps, each its own way. `endpoint` is (base URL, host label).

    Raises:
        herald.errors.Interrupted: never replaced by a plain request.
        The plain request's error, when it fails too.
    """
    base_url, where = endpoint
    support = memory.get(base_url, str(api_kwargs.get("model", "")))
    if not support.stream:
        return (yield from _replace(api_kwargs, sink, None, secrets, where))
    use_options = wire.supports_stream_options and support.stream_options
    try:
        try:
            return (yield OpenStream(wire.stream_kwargs(api_kwargs, stream_options=use_options)))
        except Exception as error:
            if not (use_options and rejects_stream_options(error) and not sink.delivered):
                raise
            support.stream_options = False
            log.info("%s rejected stream_options; streaming without them from now on", where)
            return (yield OpenStream(wire.stream_kwargs(api_kwargs, stream_options=False)))
    except Interrupted:
        raise
    except Exception as error:
        sink.abandon()  # a stream's late deltas must never follow its replacement
        response = yield from _replace(api_kwargs, sink, error, secrets, where)
        if rejects_streaming(error) and not sink.delivered:
            support.stream = False
            log.info("%s does not stream; using plain requests from now on", where)
        return response


def _replace(
    api_kwargs: dict[str, Any], sink: DeltaSink, reason: Exception | None, secrets: Sequence[str | None], where: str
) -> Generator[StreamStep, LLMResponse, LLMResponse]:
    """The plain request in place of a failed (or skipped) stream, delivered once; its error propagates."""
    if reason is not None:
        log.info(
            "streaming from %s failed (%s: %s); falling back to a plain request",
            where,
            type(reason).__name__,
            redact(str(reason), secrets),
        )
    response = yield PlainRequest(api_kwargs)
    if reason is not None:
        response.extras["fallback_reason"] = redact(f"{type(reason).__name__}: {reason}", secrets)
    if sink.delivered:
        sink.reset()
    message = response.message
    sink.replay(text=message.content, reasoning=message.reasoning_content)
    return response
