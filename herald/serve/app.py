"""The gateway's HTTP application (aiohttp.web): auth, routes, and one handler per endpoint.

    POST /v1/chat/completions   OpenAI chat (stream or not, tools, stream_options.include_usage)
    POST /v1/messages           Anthropic Messages (stream or not, tools)
    POST /v1/responses          OpenAI Responses (stream or not, function and custom tools; stateless)
    GET  /v1/models             the public model names
    GET  /health                no key needed
    GET  /metrics               Prometheus text format

Requests are translated by `chat` / `messages` / `responses` into `AsyncClient` calls (`upstream`); answers
are written from Herald's typed events (`relay`), never copied from a provider.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

from herald.serve.call import BadRequest, CallRequest, Failure, failure_for
from herald.serve.chat import ChatWriter, parse_chat
from herald.serve.chat import error_body as chat_error
from herald.serve.config import ServeConfig
from herald.serve.messages import MessagesWriter, parse_messages
from herald.serve.messages import error_body as messages_error
from herald.serve.metrics import Metrics
from herald.serve.relay import relay
from herald.serve.responses import ResponsesWriter, parse_responses
from herald.serve.upstream import Upstreams

log = logging.getLogger("herald.serve")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_OPEN_PATHS = ("/health",)
_ROUTES = ("/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/models", "/health", "/metrics")
UPSTREAMS = web.AppKey("herald.upstreams", Upstreams)  # the app's clients once started (leak checks: open_pools)
CANCEL_WAIT = 5.0  # seconds a cancelled call may take to close its upstream request at shutdown


def create_app(config: ServeConfig, *, metrics: Metrics | None = None) -> web.Application:
    """The application for `config`; its clients are made on startup and closed on cleanup."""
    metrics = metrics or Metrics()
    gateway = _Gateway(config, metrics)
    app = web.Application(middlewares=[_auth(config.keys, gateway)], client_max_size=64 * 1024**2)
    app.router.add_post("/v1/chat/completions", gateway.chat)
    app.router.add_post("/v1/messages", gateway.messages)
    app.router.add_post("/v1/responses", gateway.responses)
    app.router.add_get("/v1/models", gateway.models)
    app.router.add_get("/health", gateway.health)
    app.router.add_get("/metrics", gateway.metrics_text)
    app.on_startup.append(gateway.start)
    app.on_shutdown.append(gateway.drain)  # after the listener closed: in-flight calls get the grace period
    app.on_cleanup.append(gateway.stop)
    return app


def _auth(keys: tuple[str, ...], gateway: _Gateway) -> Any:
    """401 unless the request carries one of `keys` (`Authorization: Bearer KEY` or `x-api-key: KEY`)."""
    wanted = [key.encode() for key in keys]

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if wanted and request.path not in _OPEN_PATHS:
            given = request.headers.get("x-api-key") or _bearer(request.headers.get("Authorization", ""))
            # compare_digest against every key: the time taken says nothing about which one nearly matched.
            if not given or not any([hmac.compare_digest(given.encode(), key) for key in wanted]):
                failure = Failure(401, "invalid_request_error", "authentication_error", "missing or invalid API key")
                gateway.count(request.path, "-", 401)
                return gateway.error_response(request.path, failure)
        return await handler(request)

    return check


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class _Gateway:
    """The handlers, over the config's clients and one process's metrics."""

    def __init__(self, config: ServeConfig, metrics: Metrics) -> None:
        self.config = config
        self.metrics = metrics
        self.secrets = config.secrets()
        self.upstreams: Upstreams | None = None
        self.calls: set[asyncio.Task[Any]] = set()  # the handlers of calls in flight

    async def start(self, app: web.Application) -> None:
        self.upstreams = Upstreams(self.config, on_attempt=self.metrics.attempt)
        self.secrets = tuple(dict.fromkeys([*self.secrets, *self.upstreams.secrets()]))  # keys from the environment too
        app[UPSTREAMS] = self.upstreams

    async def drain(self, app: web.Application) -> None:
        """Shutdown, once no new connection is accepted: let calls in flight finish for the grace
        period, then cancel the rest and wait for them (each closes its upstream request as it
        ends), then close every connection pool. Nothing is left running after this."""
        running = set(self.calls)
        if running:
            _, running = await asyncio.wait(running, timeout=self.config.shutdown_grace)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=CANCEL_WAIT)
        await self.stop(app)

    async def stop(self, app: web.Application) -> None:
        if self.upstreams is not None:
            await self.upstreams.aclose()

    # ── endpoints ───────────────────────────────────────────────────────

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._call(request, parse_chat, lambda call: ChatWriter(self._primary_model(call), include_usage=call.include_usage))

    async def messages(self, request: web.Request) -> web.StreamResponse:
        return await self._call(request, parse_messages, lambda call: MessagesWriter(self._primary_model(call)))

    async def responses(self, request: web.Request) -> web.StreamResponse:
        return await self._call(request, parse_responses, lambda call: ResponsesWriter(self._primary_model(call), echo=call.echo))

    async def models(self, request: web.Request) -> web.StreamResponse:
        names = self.upstreams.names if self.upstreams is not None else [m.name for m in self.config.models]
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "herald", "type": "model", "display_name": name} for name in names]
        return web.json_response({"object": "list", "data": data, "has_more": False})

    async def health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    async def metrics_text(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": Metrics.content_type})

    # ── one call ────────────────────────────────────────────────────────

    async def _call(self, request: web.Request, parse: Callable[[Any], CallRequest], make_writer: Callable[[CallRequest], Any]) -> web.StreamResponse:
        endpoint = request.path
        try:
            body = await request.json(loads=_loads)
        except ValueError:
            return self._reject(endpoint, "-", BadRequest("the body is not valid JSON"))
        try:
            call = parse(body)
        except BadRequest as error:
            return self._reject(endpoint, "-", error)
        client = self.upstreams.client(call.model) if self.upstreams is not None else None
        if client is None:
            served = ", ".join(self.upstreams.names if self.upstreams else ())
            return self._reject(endpoint, call.model, BadRequest(f"model {call.model!r} is not served here (served: {served})", status=404, kind="not_found_error"))
        writer = make_writer(call)
        self.metrics.in_flight.inc()
        task = asyncio.current_task()
        if task is not None:
            self.calls.add(task)
        try:
            if call.stream:
                return await self._stream(request, endpoint, call, client, writer)
            return await self._complete(endpoint, call, client, writer)
        except asyncio.CancelledError:  # the client went away (or shutdown's grace ran out)
            self.count(endpoint, call.model, 499)
            raise
        finally:
            self.metrics.in_flight.dec()
            if task is not None:
                self.calls.discard(task)

    async def _complete(self, endpoint: str, call: CallRequest, client: Any, writer: Any) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await client.complete(call.messages, **call.arguments())
        except Exception as error:  # every provider failed: a herald.errors exception
            failure = failure_for(error, self.secrets)
            log.info("call failed: %s", failure.message)
            self.count(endpoint, call.model, failure.status)
            return self.error_response(endpoint, failure)
        self.metrics.ttft.labels(endpoint).observe(time.perf_counter() - started)
        self.count(endpoint, call.model, 200)
        return web.json_response(writer.completion(response), dumps=_dumps)

    async def _stream(self, request: web.Request, endpoint: str, call: CallRequest, client: Any, writer: Any) -> web.StreamResponse:
        events = client.stream(call.messages, **call.arguments())
        response, outcome = await relay(
            request,
            events,
            writer,
            keepalive_after=self.config.keepalive_after,
            error_response=lambda failure: self.error_response(endpoint, failure),
            secrets=self.secrets,
        )
        if outcome.first_content_s is not None:
            self.metrics.ttft.labels(endpoint).observe(outcome.first_content_s)
        if outcome.in_band_error:
            self.metrics.stream_errors.labels(endpoint).inc()
        if outcome.continuations:
            self.metrics.continuations.inc(outcome.continuations)
        self.count(endpoint, call.model, outcome.status)
        return response

    # ── errors and counting ─────────────────────────────────────────────

    def _reject(self, endpoint: str, model: str, error: BadRequest) -> web.StreamResponse:
        self.count(endpoint, model, error.status)
        failure = Failure(error.status, error.kind, error.kind, str(error))
        return self.error_response(endpoint, failure)

    def error_response(self, endpoint: str, failure: Failure) -> web.StreamResponse:
        """The wire's error body (Anthropic's on /v1/messages, OpenAI's elsewhere) with the failure's status."""
        body = messages_error(failure) if endpoint == "/v1/messages" else chat_error(failure)
        return web.json_response(body, status=failure.status, dumps=_dumps)

    def count(self, endpoint: str, model: str, status: int) -> None:
        # An unknown model name is counted as "-": a client must not grow the label set.
        known = self.upstreams is not None and self.upstreams.client(model) is not None
        route = endpoint if endpoint in _ROUTES else "other"  # nor may a client's paths
        self.metrics.requests.labels(route, model if known else "-", str(status)).inc()

    def _primary_model(self, call: CallRequest) -> str:
        route = next(r for r in self.config.models if r.name == call.model)
        return str(route.providers[0]["model"])


def _loads(text: str) -> Any:
    import msgspec

    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None


def _dumps(data: Any) -> str:
    import msgspec

    return msgspec.json.encode(data).decode()


__all__ = ["UPSTREAMS", "create_app"]
