"""Where requests go: base URL, key and wire, resolved from arguments and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlparse

from herald.errors import ConfigError
from herald.llm.keypool import check_keys

API_MODES = ("chat_completions", "codex_responses", "anthropic_messages")

OPENROUTER_URL = "https://openrouter.ai/api/v1"
OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com"

# Provider-specific key variables, looked up after HERALD_API_KEY, by base-URL host.
_KEY_VARIABLES = (
    ("openrouter.ai", "OPENROUTER_API_KEY"),
    ("api.openai.com", "OPENAI_API_KEY"),
    ("anthropic.com", "ANTHROPIC_API_KEY"),
)


@dataclass(frozen=True)
class Endpoint:
    """One provider endpoint.

    Attributes:
        base_url: the API root, e.g. "https://openrouter.ai/api/v1".
        api_key: the key, or None for servers that need none (local ones).
        api_mode: the wire: "chat_completions", "codex_responses" or "anthropic_messages".
        key_source: where the key came from ("argument", an environment variable, or "").
    """

    base_url: str
    api_key: str | None
    api_mode: str
    key_source: str = ""

    @property
    def host(self) -> str:
        parsed = urlparse(self.base_url)
        return parsed.netloc or self.base_url

    @property
    def is_local(self) -> bool:
        """A loopback or private-network server (llama.cpp, Ollama, vLLM…), which usually needs no key."""
        hostname = urlparse(self.base_url).hostname or ""
        if hostname == "localhost":
            return True
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            return False
        return address.is_loopback or address.is_private


def resolve_endpoint(
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    api_mode: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoint:
    """Fill in what the caller left out from the environment, then detect the wire.

    Raises:
        ConfigError: an unknown `api_mode`, a base URL that is not http(s), or a key that
            cannot be sent in an HTTP header (the message names where it came from, not the key).
    """
    environ = os.environ if environ is None else environ
    base_url = base_url or environ.get("HERALD_BASE_URL") or _default_base_url(api_mode, environ)
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"base URL {base_url!r} is not an http(s) URL (e.g. {OPENROUTER_URL})")
    key, source = _resolve_key(base_url, api_key, environ)
    check_keys([key], "the api_key argument" if source == "argument" else f"env {source}")
    mode = api_mode or detect_api_mode(base_url, model)
    if mode not in API_MODES:
        raise ConfigError(f"unknown api_mode {mode!r}: choose one of {', '.join(API_MODES)}")
    return Endpoint(base_url=base_url.rstrip("/"), api_key=key, api_mode=mode, key_source=source)


def detect_api_mode(base_url: str, model: str = "") -> str:
    """Anthropic's host speaks Messages, a Responses/Codex URL speaks Responses, the rest chat."""
    url = base_url.lower()
    host = urlparse(url).hostname or ""
    if host.endswith("anthropic.com"):
        return "anthropic_messages"
    if "/codex" in url or url.rstrip("/").endswith("/responses"):
        return "codex_responses"
    return "chat_completions"


def key_variable(base_url: str) -> str | None:
    """The provider's own key variable for this base URL (e.g. ANTHROPIC_API_KEY), if it is a known host."""
    host = urlparse(base_url).hostname or ""
    return next((variable for fragment, variable in _KEY_VARIABLES if fragment in host), None)


def _default_base_url(api_mode: str | None, environ: Mapping[str, str]) -> str:
    if api_mode == "anthropic_messages" or (environ.get("ANTHROPIC_API_KEY") and not _any_openai_key(environ)):
        return ANTHROPIC_URL
    if environ.get("OPENAI_API_KEY") and not environ.get("OPENROUTER_API_KEY"):
        return OPENAI_URL
    return OPENROUTER_URL


def _any_openai_key(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("HERALD_API_KEY") or environ.get("OPENROUTER_API_KEY") or environ.get("OPENAI_API_KEY"))


def _resolve_key(base_url: str, api_key: str | None, environ: Mapping[str, str]) -> tuple[str | None, str]:
    if api_key:
        return api_key, "argument"
    if environ.get("HERALD_API_KEY"):
        return environ["HERALD_API_KEY"], "HERALD_API_KEY"
    host = urlparse(base_url).hostname or ""
    for fragment, variable in _KEY_VARIABLES:
        if fragment in host:
            value = environ.get(variable)
            return (value, variable) if value else (None, "")
    for variable in ("OPENROUTER_API_KEY", "OPENAI_API_KEY"):
        if environ.get(variable):
            return environ[variable], variable
    return None, ""
