"""Fallback providers: each one's settings, its keys, and its own call path.

A fallback entry (an item of `AIAgent(fallback=[...])`, or a `[[fallback]]` table in the
CLI's config.toml) holds the same settings as the primary:

    {"model": "claude-haiku-4-5", "base_url": "https://api.anthropic.com", "api_key": "…"}

- `model` and `base_url` default to the primary's (at least one of them must be given);
- `api_mode` is detected from the base URL when omitted;
- `api_key` / `api_keys` (a pool): when neither is given, a fallback on the primary's base URL
  shares the primary's keys, and one elsewhere uses the provider's own variable
  (`OPENROUTER_API_KEY`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) only: the primary's
  `HERALD_API_KEY` is never sent to another host.

Each fallback gets its own `LLMCaller` (stream → fallback → retry → attempt) and its own
keys; the choice between providers is `herald.llm.failover`'s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

from herald.errors import ConfigError
from herald.llm.caller import CallHooks, LLMCaller, Wire
from herald.llm.clients import make_anthropic_client, make_openai_client
from herald.llm.idle_clients import IdleClients
from herald.llm.endpoint import Endpoint, key_variable, resolve_endpoint
from herald.llm.failover import ProviderInfo, RotatingRetryPolicy
from herald.llm.fallback import StreamSupportMemory
from herald.llm.keypool import check_keys, pool_keys, unique_keys
from herald.llm.sink import DeltaSink
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse
from herald.llm.wires import wire_for

FALLBACK_KEYS = ("model", "base_url", "api_key", "api_keys", "api_mode")


@dataclass(frozen=True)
class ProviderSettings:
    """One provider, resolved.

    Attributes:
        model: the model name as this provider spells it.
        endpoint: base URL and wire (its `api_key` is the pool's first key).
        keys: the pool, in order; `(None,)` for a provider that needs no key.
    """

    model: str
    endpoint: Endpoint
    keys: tuple[str | None, ...]

    def info(self) -> ProviderInfo:
        return ProviderInfo(self.model, self.endpoint.base_url, len(self.keys))


def fallback_settings(
    entries: Sequence[Mapping[str, Any]],
    *,
    primary: ProviderSettings,
    environ: Mapping[str, str] | None = None,
) -> list[ProviderSettings]:
    """Validate and resolve fallback entries, in order.

    Raises:
        ConfigError: an entry that is not a table, has an unknown key or a wrong type, gives
            neither model nor base_url, or has a bad base URL or api_mode. The message names it
            ("fallback 2: …").
    """
    environ = os.environ if environ is None else environ
    return [_one_fallback(entry, number, primary, environ) for number, entry in enumerate(entries, 1)]


def _one_fallback(entry: Any, number: int, primary: ProviderSettings, environ: Mapping[str, str]) -> ProviderSettings:
    where = f"fallback {number}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be a table of {', '.join(FALLBACK_KEYS)}, not {type(entry).__name__}")
    for key, value in entry.items():
        if key not in FALLBACK_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(FALLBACK_KEYS)})")
        if key == "api_keys":
            if not isinstance(value, (list, tuple)) or not all(isinstance(k, str) for k in value):
                raise ConfigError(f"{where}: api_keys must be a list of strings")
        elif value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, not {type(value).__name__}")
    if not entry.get("model") and not entry.get("base_url"):
        raise ConfigError(f"{where}: give a model or a base_url (or both)")
    try:
        model, local_url = local_provider(entry.get("model") or primary.model, entry.get("base_url"))
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
    base_url = local_url or entry.get("base_url") or primary.endpoint.base_url
    try:
        endpoint = resolve_endpoint(model=model, base_url=base_url, api_mode=entry.get("api_mode"), environ={})
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
    keys = unique_keys((entry.get("api_key"), *(entry.get("api_keys") or ())))
    check_keys(keys, where)
    source = "argument" if keys else ""
    if not keys and endpoint.base_url == primary.endpoint.base_url:
        keys, source = unique_keys(primary.keys), "the primary's keys"
    if not keys:
        variable = key_variable(endpoint.base_url)
        keys = unique_keys((environ.get(variable, "").strip(),)) if variable else ()
        check_keys(keys, f"{where}: env {variable}")
        source = (variable or "") if keys else ""
    pool = pool_keys(None, keys)
    return ProviderSettings(model, replace(endpoint, api_key=pool[0], key_source=source), pool)


def local_provider(model: str, base_url: str | None, local_model: str | None = None) -> tuple[str, str | None]:
    """The model name and base URL for a provider named `model`: for `"local"` without a base URL,
    the bundled local model's server on this machine (`herald.local.shared`, started on first use);
    any other name is itself, with no base URL of its own.

    Raises:
        ConfigError: "local" without the `local` extra installed.
    """
    from herald.local.shared import LOCAL_PROVIDER, resolve_local

    if model != LOCAL_PROVIDER or base_url:
        return model, None
    return resolve_local(local_model)


class FallbackCalls:
    """A fallback provider's own call path, with the key the chain picked for this attempt.

    Args:
        settings: the provider.
        spare_key: True when another of its keys is usable now (a 429 then rotates, not waits).
        secrets: every key of every provider, for redaction.
        normalize / is_interrupted: the agent's.
    """

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        spare_key: Callable[[int], bool],
        secrets: Callable[[], tuple[str | None, ...]],
        normalize: Callable[[Any], LLMResponse],
        is_interrupted: Callable[[], bool],
        timeouts: StreamTimeouts,
        max_retries: int,
        request_timeout: float,
        memory: StreamSupportMemory,
        idle_clients: IdleClients,
    ) -> None:
        self.settings = settings
        self._idle_clients = idle_clients
        self.key = 0
        """Position in `settings.keys` of the key the next request uses."""
        self.wire: Wire = wire_for(settings.endpoint.api_mode)
        self._request_timeout = request_timeout
        endpoint = settings.endpoint
        hooks = CallHooks(
            wire=lambda: self.wire,
            endpoint=lambda: (endpoint.base_url, endpoint.host),
            secrets=secrets,
            create_client=self._create_client,
            close_client=idle_clients.give_back,
            plain_call=lambda kwargs: self.caller.request(kwargs),
            normalize=normalize,
            is_interrupted=is_interrupted,
            discard_client=idle_clients.discard,
            client_was_kept=idle_clients.reused,
            discard_stale=idle_clients.discard_stale,
        )
        retry = RotatingRetryPolicy(max_retries=max_retries, spare_key=lambda: spare_key(self.key))
        self.caller = LLMCaller(hooks=hooks, timeouts=timeouts, retry=retry, memory=memory, request_timeout=request_timeout)

    def stream(self, api_kwargs: dict[str, Any], sink: DeltaSink) -> LLMResponse:
        return self.caller.stream(api_kwargs, sink)

    def request(self, api_kwargs: dict[str, Any]) -> LLMResponse:
        return self.caller.request(api_kwargs)

    def endpoint_for(self, key: int) -> Endpoint:
        """The endpoint with the pool's key number `key` (the async agent's clients are made from it too).

        Raises:
            ConfigError: no key, for a provider that is not local.
        """
        settings = self.settings
        endpoint = replace(settings.endpoint, api_key=settings.keys[key])
        if not endpoint.api_key and not endpoint.is_local:
            hint = key_variable(endpoint.base_url)
            raise ConfigError(
                f"no API key for the fallback {settings.model} via {endpoint.host}: set api_key in its entry"
                + (f" (or {hint})" if hint else "")
            )
        return endpoint

    def _create_client(self, reason: str) -> Any:
        endpoint = self.endpoint_for(self.key)
        make = make_anthropic_client if endpoint.api_mode == "anthropic_messages" else make_openai_client
        return self._idle_clients.take(endpoint, lambda: make(endpoint, timeout=self._request_timeout))


__all__ = ["FALLBACK_KEYS", "FallbackCalls", "ProviderSettings", "fallback_settings", "local_provider"]
