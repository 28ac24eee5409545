"""The async SDK clients' HTTP transport: aiohttp under httpx2, with each body's aiohttp response in reach.

    http_client = httpx2.AsyncClient(transport=AiohttpTransport(ssl_context, limits), …)
    client = openai.AsyncOpenAI(…, http_client=http_client)       # the SDK builds and sends requests
    response = await client.post(path, body=…, cast_to=httpx2.Response, stream=True)
    async for chunk in body_chunks(response):                     # the stream loop reads aiohttp itself

It does what the SDKs' own `DefaultAioHttpClient` (their vendored `httpx-aiohttp` 0.2.0) does with a
request: aiohttp sends it, the response comes back as an `httpx2.Response`, aiohttp's errors are
raised as httpx2's (the map below is the anthropic SDK's, which does not call a refused connection
a timeout), so the SDK still builds the request, authenticates, applies its timeouts and raises its
status errors. The difference is the body: the response carries its aiohttp response in its
extensions (`AIOHTTP_RESPONSE`, as httpcore hands out its `network_stream`), so `body_chunks` can
give the stream loop aiohttp's own chunks. Through the SDK's response, every
chunk passed four async generators (the SDK's `iter_bytes`, httpx2's decoder, chunker and raw
stream, the vendored stream); measured in docs/performance-async.md.

A request sent on a kept connection the server had closed meanwhile (an idle timeout, or a close
right after the last answer) fails before any byte with "Server disconnected": it is sent once more
on a new connection, as the blocking path does (`caller.LLMCaller`), since nothing was received.
aiohttp tells a kept connection from a new one through its trace signal `on_connection_reuseconn`.

Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`): httpx2 ignores them once
it is given a transport, so the session reads them itself (aiohttp's `trust_env`), as the SDKs'
transport got them from httpx2.
"""

from __future__ import annotations

import logging
import ssl
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, AsyncIterator, Iterator

import aiohttp
import httpx2

log = logging.getLogger("herald")

AIOHTTP_RESPONSE = "herald.aiohttp_response"
"""The `httpx2.Response.extensions` key of the aiohttp response a body is read from (httpx2 wraps
the body stream itself, so the stream cannot say it)."""

_ERROR_MAP: dict[type[BaseException], type[httpx2.TransportError]] = {
    aiohttp.ServerTimeoutError: httpx2.TimeoutException,
    aiohttp.SocketTimeoutError: httpx2.ReadTimeout,
    aiohttp.ClientConnectionError: httpx2.ConnectError,
    aiohttp.ClientConnectorError: httpx2.ConnectError,
    aiohttp.ConnectionTimeoutError: httpx2.ConnectTimeout,
    aiohttp.ClientPayloadError: httpx2.ReadError,
    aiohttp.ClientProxyConnectionError: httpx2.ProxyError,
    aiohttp.ClientHttpProxyError: httpx2.ProxyError,
    aiohttp.NonHttpUrlClientError: httpx2.UnsupportedProtocol,
    aiohttp.InvalidUrlClientError: httpx2.UnsupportedProtocol,
}


@contextmanager
def aiohttp_errors_as_httpx2() -> Iterator[None]:
    """Re-raise aiohttp's errors as httpx2's (the most specific match), as the SDKs' transport does.

    Everything else passes through untouched.
    """
    try:
        yield
    except aiohttp.ClientError as exc:
        mapped: type[httpx2.TransportError] | None = None
        for aiohttp_error, httpx2_error in _ERROR_MAP.items():
            if isinstance(exc, aiohttp_error) and (mapped is None or issubclass(httpx2_error, mapped)):
                mapped = httpx2_error
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


class AiohttpBody(httpx2.AsyncByteStream):
    """The body of one response, read from `aiohttp_response`."""

    def __init__(self, aiohttp_response: aiohttp.ClientResponse) -> None:
        self.aiohttp_response = aiohttp_response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with aiohttp_errors_as_httpx2():
            async for chunk in self.aiohttp_response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        """Release the connection: back to the pool if the body was read whole, else closed."""
        with aiohttp_errors_as_httpx2():
            await self.aiohttp_response.__aexit__(None, None, None)


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """httpx2 requests sent by one aiohttp session, opened on the first request (inside the loop)."""

    def __init__(self, ssl_context: ssl.SSLContext, limits: httpx2.Limits) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send `request` with aiohttp; the response's body is an `AiohttpBody`, not yet read."""
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        content = _content(request)
        while True:
            connection = _Connection()
            try:
                with aiohttp_errors_as_httpx2():
                    response = await session.request(
                        method=request.method,
                        url=str(request.url),
                        headers=request.headers,
                        data=content,
                        allow_redirects=False,  # httpx2 follows them
                        auto_decompress=False,  # httpx2 decodes; `body_chunks` only reads identity bodies itself
                        compress=False,
                        timeout=aiohttp.ClientTimeout(
                            sock_connect=timeout.get("connect"), sock_read=timeout.get("read"), connect=timeout.get("pool")
                        ),
                        server_hostname=request.extensions.get("sni_hostname"),
                        trace_request_ctx=connection,
                    ).__aenter__()
                break
            except httpx2.TransportError as exc:
                dead = isinstance(exc.__cause__, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError))
                if not (dead and connection.kept and isinstance(content, (bytes, type(None)))):
                    raise
                log.info("%s: a kept connection was closed by the server (%s); sending again on a new one", request.url.host, exc)
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1", AIOHTTP_RESPONSE: response}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx2.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpBody(response),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()

    def _open(self) -> aiohttp.ClientSession:
        size = self._limits.max_connections or 0  # 0: aiohttp's "no limit"
        connector = aiohttp.TCPConnector(limit=size, keepalive_timeout=self._limits.keepalive_expiry, ssl=self._ssl_context)
        tracing = aiohttp.TraceConfig()
        tracing.on_connection_reuseconn.append(_note_kept)
        self._session = aiohttp.ClientSession(connector=connector, trust_env=True, trace_configs=[tracing])  # proxies: see above
        return self._session


class _Connection:
    """What one request's connection was (aiohttp's trace signals fill it in)."""

    kept = False
    """It came from the pool: an earlier request's."""


async def _note_kept(session: aiohttp.ClientSession, context: SimpleNamespace, params: object) -> None:
    if isinstance(context.trace_request_ctx, _Connection):
        context.trace_request_ctx.kept = True


def _content(request: httpx2.Request) -> Any:
    try:
        return request.content or None
    except httpx2.RequestNotRead:
        request.headers.pop("transfer-encoding", None)  # aiohttp frames a streamed body itself
        return request.stream


def body_chunks(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The body of a streamed `httpx2.Response`, decoded, chunk by chunk.

    Straight from aiohttp when the body came through `AiohttpTransport` and is not compressed;
    otherwise through httpx2's `aiter_bytes` (which decodes gzip and the like). aiohttp's errors
    are raised as httpx2's either way once the read is wrapped in `aiohttp_errors_as_httpx2()`.
    """
    underneath = response.extensions.get(AIOHTTP_RESPONSE)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if isinstance(underneath, aiohttp.ClientResponse) and encoding == "identity":
        return underneath.content.iter_any()
    return response.aiter_bytes()


__all__ = ["AIOHTTP_RESPONSE", "AiohttpBody", "AiohttpTransport", "aiohttp_errors_as_httpx2", "body_chunks"]
