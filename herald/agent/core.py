"""`AIAgent`: configuration, the LLM-call seams and interrupts.

The private `_…` methods below are a compatibility contract (see the README): tests and
integrations patch them. They stay thin and delegate to `herald.llm`.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

from herald.errors import ConfigError
from herald.llm.caller import CallHooks, LLMCaller, Wire
from herald.llm.clients import close_client, make_anthropic_client, make_openai_client
from herald.llm.endpoint import API_MODES, Endpoint, resolve_endpoint
from herald.llm.openai_chat import response_from_completion
from herald.llm.retry import RetryPolicy
from herald.llm.sink import DeltaSink
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse
from herald.llm.wires import wire_for

log = logging.getLogger("herald.agent")

TextCallback = Callable[[str], object]

DEFAULT_MODEL = "openai/gpt-4o-mini"


class AIAgent:
    """A tool-using agent whose model calls stream when they can and never break when they cannot.

    Construction is offline: no key, network or client is needed until the first call.

    Args:
        model: the model name as the provider spells it (`HERALD_MODEL` when omitted).
        base_url: the API root (`HERALD_BASE_URL`, else the provider implied by the key variables).
        api_key: the key (`HERALD_API_KEY`, then `OPENROUTER_API_KEY` / `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`).
        api_mode: "chat_completions", "codex_responses" or "anthropic_messages"; detected when omitted.
        quiet_mode: no progress output of the agent's own.
        skip_context_files: don't read AGENTS.md / .herald.md into the system prompt.
        skip_memory: don't read or offer the persistent memory.
        stream_delta_callback: receives answer text as it streams (not after tool calls start).
        reasoning_callback: receives reasoning text as it streams.
        stream_reset_callback: called when text already delivered is void because a fallback
            replaced the stream; the complete answer follows as one delta.
        max_iterations: model calls per conversation turn before giving up.
        stream_first_byte_timeout / stream_idle_timeout / stream_total_timeout: see `StreamTimeouts`.
        request_timeout: seconds for one plain request.
        max_retries: retries of a plain request on 429 / 5xx / connection errors.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_mode: str | None = None,
        quiet_mode: bool = False,
        skip_context_files: bool = False,
        skip_memory: bool = False,
        stream_delta_callback: TextCallback | None = None,
        reasoning_callback: TextCallback | None = None,
        stream_reset_callback: Callable[[], object] | None = None,
        max_iterations: int = 50,
        stream_first_byte_timeout: float | None = None,
        stream_idle_timeout: float | None = None,
        stream_total_timeout: float | None = None,
        request_timeout: float = 600.0,
        max_retries: int = 3,
    ) -> None:
        if api_mode is not None and api_mode not in API_MODES:
            raise ConfigError(f"unknown api_mode {api_mode!r}: choose one of {', '.join(API_MODES)}")
        if max_iterations < 1:
            raise ConfigError(f"max_iterations must be at least 1, got {max_iterations}")
        self.model = model or os.environ.get("HERALD_MODEL") or DEFAULT_MODEL
        self._endpoint = resolve_endpoint(model=self.model, base_url=base_url, api_key=api_key, api_mode=api_mode)
        self.api_mode = self._endpoint.api_mode
        self.quiet_mode = quiet_mode
        self.skip_context_files = skip_context_files
        self.skip_memory = skip_memory
        self.stream_delta_callback = stream_delta_callback
        self.reasoning_callback = reasoning_callback
        self.stream_reset_callback = stream_reset_callback
        self._stream_callback: TextCallback | None = None
        self.max_iterations = max_iterations
        self.request_timeout = request_timeout
        self._interrupt_event = threading.Event()
        self._llm = LLMCaller(
            hooks=self._call_hooks(),
            timeouts=_timeouts(stream_first_byte_timeout, stream_idle_timeout, stream_total_timeout),
            retry=RetryPolicy(max_retries=max_retries),
        )

    # ── configuration ───────────────────────────────────────────────────

    @property
    def base_url(self) -> str:
        return self._endpoint.base_url

    @property
    def endpoint(self) -> Endpoint:
        """Where requests go (the key is inside: never log this object's fields)."""
        return self._endpoint

    @property
    def stream_timeouts(self) -> StreamTimeouts:
        return self._llm.timeouts

    # ── interrupts ──────────────────────────────────────────────────────

    @property
    def _interrupt_requested(self) -> bool:
        return self._interrupt_event.is_set()

    @_interrupt_requested.setter
    def _interrupt_requested(self, value: bool) -> None:
        if value:
            self._interrupt_event.set()
            self._llm.wake()
        else:
            self._interrupt_event.clear()

    def interrupt(self) -> None:
        """Stop the call in flight at once (from any thread). It raises `herald.errors.Interrupted`."""
        self._interrupt_requested = True

    def clear_interrupt(self) -> None:
        """Allow calls again after an interrupt."""
        self._interrupt_requested = False

    # ── the LLM-call contract ───────────────────────────────────────────

    def _has_stream_consumers(self) -> bool:
        """True when someone displays deltas, so a call should stream."""
        return any(cb is not None for cb in (self.stream_delta_callback, self._stream_callback, self.reasoning_callback))

    def _interruptible_streaming_api_call(
        self, api_kwargs: dict[str, Any], *, on_first_delta: Callable[[], object] | None = None
    ) -> LLMResponse:
        """Stream one model call to the consumers; fall back to `_interruptible_api_call` on any failure.

        Raises:
            herald.errors.Interrupted: the user interrupted; `.partial` holds what arrived.
            The fallback's error, when the plain request fails too.
        """
        return self._llm.stream(api_kwargs, self._make_sink(on_first_delta))

    def _interruptible_api_call(self, api_kwargs: dict[str, Any]) -> LLMResponse:
        """One plain (non-streaming) model call, retried on transient failures, interruptible."""
        return self._llm.request(api_kwargs)

    def _run_codex_stream(
        self,
        api_kwargs: dict[str, Any],
        client: Any = None,
        on_first_delta: Callable[[], object] | None = None,
    ) -> Any:
        """Stream one Responses-API call on `client` (a fresh request client when None)."""
        from herald.llm.responses import run_responses_stream

        sink = self._make_sink(on_first_delta)
        if client is not None:
            return run_responses_stream(client, api_kwargs, sink)
        own = self._create_request_openai_client(reason="codex_stream")
        try:
            return run_responses_stream(own, api_kwargs, sink)
        finally:
            self._close_request_openai_client(own, reason="codex_stream")

    def _create_request_openai_client(self, *, reason: str = "") -> Any:
        """A fresh openai client for one request: closing it to interrupt never poisons another."""
        return make_openai_client(self._endpoint, timeout=self.request_timeout)

    def _close_request_openai_client(self, client: Any, *, reason: str = "") -> None:
        close_client(client)

    def _create_request_client(self, reason: str) -> Any:
        if self.api_mode == "anthropic_messages":
            return make_anthropic_client(self._endpoint, timeout=self.request_timeout)
        return self._create_request_openai_client(reason=reason)

    def _close_request_client(self, client: Any) -> None:
        if self.api_mode == "anthropic_messages":
            close_client(client)
        else:
            self._close_request_openai_client(client, reason="done")

    # ── wiring ──────────────────────────────────────────────────────────

    def _wire(self) -> Wire:
        return wire_for(self.api_mode)

    def _make_sink(self, on_first_delta: Callable[[], object] | None) -> DeltaSink:
        return DeltaSink(
            text_callbacks=[self.stream_delta_callback, self._stream_callback],  # type: ignore[list-item]
            reasoning_callback=self.reasoning_callback,
            on_first_delta=on_first_delta,
            reset_callback=self.stream_reset_callback,
        )

    def _call_hooks(self) -> CallHooks:
        # Lambdas, not bound methods: the seams are looked up per call, so patching works.
        return CallHooks(
            wire=lambda: self._wire(),
            endpoint=lambda: (self._endpoint.base_url, self._endpoint.host),
            secrets=lambda: (self._endpoint.api_key,),
            create_client=lambda reason: self._create_request_client(reason),
            close_client=lambda client: self._close_request_client(client),
            plain_call=lambda kwargs: self._interruptible_api_call(kwargs),
            normalize=self._normalize,
            is_interrupted=lambda: self._interrupt_requested,
        )

    def _normalize(self, response: Any) -> LLMResponse:
        if isinstance(response, LLMResponse):
            return response
        return response_from_completion(response)


def _timeouts(first_byte: float | None, idle: float | None, total: float | None) -> StreamTimeouts:
    limits = StreamTimeouts.from_env()
    changes = {k: v for k, v in (("first_byte", first_byte), ("idle", idle), ("total", total)) if v is not None}
    return limits.with_(**changes) if changes else limits
