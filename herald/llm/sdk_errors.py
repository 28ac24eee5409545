"""The one seam where SDK exceptions become Herald errors, with keys scrubbed."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import anthropic
import openai

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
from herald.llm.redact import redact, redact_data


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
_STATUS_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)
_CONNECTION_ERRORS = (openai.APIConnectionError, anthropic.APIConnectionError)
_API_ERRORS = (openai.APIError, anthropic.APIError)


@contextmanager
def translate_errors(*, where: str, secrets: Sequence[str | None] = ()) -> Iterator[None]:
    """Re-raise SDK and decoding errors as Herald errors named after `where` (e.g. the host).

    Herald errors and everything else pass through untouched.
    """
    try:
        yield
    except HeraldError:
        raise
    except _STATUS_ERRORS as exc:
        raise status_error(exc, where=where, secrets=secrets) from None
    except _CONNECTION_ERRORS as exc:
        kind = "timed out" if isinstance(exc, (openai.APITimeoutError, anthropic.APITimeoutError)) else "unreachable"
        cause = redact(str(exc.__cause__ or exc), secrets)
        raise ProviderUnreachable(f"{where} {kind}: {cause}") from None
    except _TRANSPORT_ERRORS as exc:
        raise ProviderUnreachable(f"{where}: connection failed: {redact(str(exc), secrets) or type(exc).__name__}") from None
    except _API_ERRORS as exc:
        # No HTTP status: an error the provider sent inside a 200 stream.
        message = redact(str(getattr(exc, "message", exc)), secrets)
        raise IncompleteStream(f"{where} reported an error mid-stream: {message}") from None
    except json.JSONDecodeError as exc:
        raise BadResponse(f"{where} sent data that is not valid JSON: {exc}") from None


def status_error(exc: Any, *, where: str, secrets: Sequence[str | None]) -> ProviderError:
    """A `ProviderError` (of the right subclass) for an SDK status error."""
    status = int(exc.status_code)
    body = redact_data(exc.body, secrets)
    provider_message = redact(provider_message_of(body) or str(getattr(exc, "message", "")), secrets)
    headers = dict(exc.response.headers.items()) if getattr(exc, "response", None) is not None else {}
    error_class = _class_for(status)
    text = f"{where} answered HTTP {status}"
    if provider_message:
        text += f": {provider_message}"
    return error_class(text, status=status, provider_message=provider_message, headers=headers, body=body)


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
