"""SDK clients, each serving one request at a time, so closing one to interrupt never poisons another
(kept between requests by `herald.llm.idle_clients`)."""

from __future__ import annotations

import ssl
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

import openai

from herald.errors import ConfigError
from herald.llm.endpoint import Endpoint

if TYPE_CHECKING:
    import anthropic  # imported on first use: see herald.llm.sdks

# Local servers ignore the key, but the SDKs insist on one.
_PLACEHOLDER_KEY = "no-key-needed"


@lru_cache(maxsize=1)
def _shared_ssl_context() -> ssl.SSLContext:
    # Building an SSL context loads the CA bundle (tens of ms); per-request clients share one.
    return ssl.create_default_context()


_first_use: dict[str, Callable[[], None]] = {}
_first_use_lock = threading.Lock()


def on_first_client(base_url: str, start: Callable[[], None]) -> None:
    """Run `start` before any client for `base_url` is made (e.g. start a local model's server).

    `start` must be idempotent and thread-safe: it runs before every client made for that
    address, and returns at once once its work is done.
    """
    with _first_use_lock:
        _first_use[base_url.rstrip("/")] = start


def _key_for(endpoint: Endpoint) -> str:
    """The key a client for `endpoint` sends, once the server behind it runs (`on_first_client`)."""
    start = _first_use.get(endpoint.base_url.rstrip("/"))
    if start is not None:
        start()
    if endpoint.api_key:
        return endpoint.api_key
    if endpoint.is_local:
        return _PLACEHOLDER_KEY
    raise ConfigError(
        f"no API key for {endpoint.host}: set HERALD_API_KEY (or the provider's own variable, "
        "e.g. OPENROUTER_API_KEY) or pass api_key=…"
    )


def make_openai_client(endpoint: Endpoint, *, timeout: float) -> openai.OpenAI:
    """A fresh openai client with SDK retries off: Herald retries (and falls back) itself."""
    return openai.OpenAI(
        api_key=_key_for(endpoint),
        base_url=endpoint.base_url,
        max_retries=0,
        timeout=timeout,
        http_client=openai.DefaultHttpxClient(verify=_shared_ssl_context(), timeout=timeout),
    )


def make_anthropic_client(endpoint: Endpoint, *, timeout: float) -> anthropic.Anthropic:
    """A fresh anthropic client with SDK retries off."""
    import anthropic

    return anthropic.Anthropic(
        api_key=_key_for(endpoint),
        base_url=endpoint.base_url,
        max_retries=0,
        timeout=timeout,
        http_client=anthropic.DefaultHttpxClient(verify=_shared_ssl_context(), timeout=timeout),
    )


def close_client(client: Any) -> None:
    """Close a client and its sockets; safe to call twice, from any thread."""
    close = getattr(client, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing a half-dead connection may itself fail; it is gone either way
            pass
