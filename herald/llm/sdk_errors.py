"""The one seam where SDK and transport exceptions become Herald errors, with keys scrubbed.

Both stream paths (the SDK's objects, and the raw fast path that reads the SDK's HTTP
response itself) and plain requests run inside `translate_errors`; nothing else in Herald
imports the SDKs' HTTP library. `Retry-After` is parsed here, once, into `ProviderError.retry_after`.
"""

from __future__ import annotations

import email.utils
import json
import socket
import time
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from herald.errors import (
    AuthenticationError,
    BadResponse,
    HeraldError,
    IncompleteStream,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
)
from herald.llm.decode import DecodeError
from herald.llm.redact import redact, redact_data
from herald.llm.sdks import loaded_errors


def _transport_errors() -> tuple[type[BaseException], ...]:
    # The SDKs wrap most transport errors, but not all (anthropic lets a protocol error
    # from a cut chunked body through); their HTTP library changed name across versions.
    found: list[type[BaseException]] = []
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        found.append(module.TransportError)
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


@contextmanager
def translate_errors(*, where: str, secrets: Sequence[str | None] = ()) -> Iterator[None]:
    """Re-raise SDK and decoding errors as Herald errors named after `where` (e.g. the host).

    Herald errors and everything else pass through untouched.
    """
    try:
        yield
    except IncompleteStream as exc:
        # A reader words what the provider said in-band (which may echo the key): scrub it here.
        detail = redact(exc.detail, secrets)
        if detail == exc.detail:
            raise
        raise IncompleteStream(exc.reason, detail) from None
    except HeraldError:
        raise
    except loaded_errors("APIStatusError") as exc:
        if exc.status_code < 400:
            # The SDKs raise an `event: error` inside a 200 stream as a status error with the
            # stream's status (e.g. Anthropic's overloaded_error mid-stream): an in-band failure.
            message = redact(provider_message_of(redact_data(exc.body, secrets)) or str(exc.message), secrets)
            raise IncompleteStream("error_event", f"{where}: {message}") from None
        raise status_error(exc, where=where, secrets=secrets) from None
    except loaded_errors("APIConnectionError") as exc:
        cause = redact(str(exc.__cause__ or exc), secrets)
        what = connection_failure(exc)
        if what == "timed out" or (what is None and isinstance(exc, loaded_errors("APITimeoutError"))):
            raise ProviderUnreachable.timeout(f"{where} timed out: {cause}") from None
        raise ProviderUnreachable(f"{where} {_PHRASES.get(what or '', 'unreachable')}: {cause}") from None
    except _TRANSPORT_ERRORS as exc:
        # The raw path reads the SDK's HTTP response itself, so a connection cut or reset
        # mid-body (and the anthropic SDK's own unwrapped protocol errors) arrive raw.
        what = connection_failure(exc) or ("timed out" if "Timeout" in type(exc).__name__ else None)
        message = f"{where}: connection failed: {redact(str(exc), secrets) or type(exc).__name__}"
        if what == "timed out":
            raise ProviderUnreachable.timeout(message) from None
        if what is not None:
            message = f"{where} {_PHRASES[what]}: {redact(str(exc), secrets) or type(exc).__name__}"
        raise ProviderUnreachable(message) from None
    except loaded_errors("APIError") as exc:
        # No HTTP status: an error the provider sent inside a 200 stream.
        message = redact(str(getattr(exc, "message", exc)), secrets)
        raise IncompleteStream("error_event", f"{where}: {message}") from None
    except (json.JSONDecodeError, DecodeError) as exc:
        raise BadResponse(f"{where} sent data that is not valid JSON: {exc}") from None


def connection_failure(exc: BaseException) -> str | None:
    """What really happened to a connection: "refused", "reset", "DNS", "timed out", or None
    (unknown). The cause chain decides, not the wrapper's class: the aiohttp transport wraps a
    refused connection, a reset and a DNS failure alike as a connect *timeout*."""
    chain = _cause_chain(exc)
    for error in chain:  # a named cause anywhere in the chain wins over a wrapper's "timeout"
        if isinstance(error, ConnectionRefusedError):
            return "refused"
        if isinstance(error, ConnectionResetError):
            return "reset"
        if isinstance(error, socket.gaierror) or type(error).__name__ == "ClientConnectorDNSError":
            return "DNS"
    if any(isinstance(e, TimeoutError) or type(e).__name__ in _TIMEOUT_NAMES for e in chain):
        return "timed out"
    return None


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    error: BaseException | None = exc
    while error is not None and all(error is not seen for seen in chain):
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


_PHRASES = {"refused": "unreachable: refused", "reset": "reset the connection", "DNS": "unreachable: DNS lookup failed"}
"""How a message names each connection failure after the host."""

_TIMEOUT_NAMES = frozenset({"ReadTimeout", "WriteTimeout", "PoolTimeout", "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError"})
"""Transport timeouts that are real timeouts (a `ConnectTimeout` wrapper alone says nothing: see above)."""


def status_error(exc: Any, *, where: str, secrets: Sequence[str | None]) -> ProviderError:
    """A `ProviderError` (of the right subclass) for an SDK status error."""
    status = int(exc.status_code)
    body = redact_data(exc.body, secrets)
    provider_message = redact(provider_message_of(body) or str(getattr(exc, "message", "")), secrets)
    headers = {k.lower(): v for k, v in exc.response.headers.items()} if getattr(exc, "response", None) is not None else {}
    error_class = _class_for(status)
    text = f"{where} answered HTTP {status}"
    if provider_message:
        text += f": {provider_message}"
    return error_class(
        text,
        status=status,
        provider_message=provider_message,
        headers=headers,
        body=body,
        retry_after=parse_retry_after(headers.get("retry-after")),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header: a number of seconds or an HTTP date (None if neither)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _class_for(status: int) -> type[ProviderError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return ModelNotFoundError
    if status == 429:
        return RateLimitError
    return ProviderError


def provider_message_of(body: Any) -> str:
    """The human message inside an error body of any common shape."""
    if isinstance(body, str):
        return body.strip()[:500]
    if not isinstance(body, dict):
        return ""
    error = body.get("error", body)
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or ""
        return str(message)[:500]
    return str(error)[:500]
