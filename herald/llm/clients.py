"""SDK clients, each serving one request at a time, so closing one to interrupt never poisons another
(kept between requests by `herald.llm.idle_clients`)."""

from __future__ import annotations

import ssl
from functools import lru_cache
from typing import TYPE_CHECKING, Any

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


def _key_for(endpoint: Endpoint) -> str:
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
