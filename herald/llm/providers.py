"""Fallback providers: each one's settings, its keys, and its own call path.

A fallback entry (an item of `AIAgent(fallback=[...])`, or a `[[fallback]]` table in the
CLI's config.toml) holds the same settings as the primary:

    {"model": "claude-haiku-4-5", "base_url": "https://api.anthropic.com", "api_key": "…"}

- `model` and `base_url` default to the primary's (at least one of them must be given);
- `api_mode` is detected from the base URL when omitted;
- `continuation`: "off", "auto" (the default) or "prefill": whether a cut answer is continued
  from its prefix on this provider (`herald.llm.continuation`);
- `api_key` / `api_keys` (a pool): when neither is given, a fallback on the primary's base URL
  shares the primary's keys, and one elsewhere uses the provider's own variable
  (`OPENROUTER_API_KEY`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) only: the primary's
  `HERALD_API_KEY` is never sent to another host.

Each provider's requests go through the client's attempt planner (`herald.llm.planner`);
what the chain remembers between calls is `herald.llm.failover`'s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from herald.errors import ConfigError
from herald.llm.continuation import DEFAULT, LOCAL_SERVER, Setting, check_setting, continuation_enabled
from herald.llm.endpoint import Endpoint, key_variable, resolve_endpoint
from herald.llm.failover import ProviderInfo
from herald.llm.keypool import check_keys, pool_keys, unique_keys

FALLBACK_KEYS = ("model", "base_url", "api_key", "api_keys", "api_mode", "continuation")


@dataclass(frozen=True)
class ProviderSettings:
    """One provider, resolved.

    Attributes:
        model: the model name as this provider spells it.
        endpoint: base URL and wire (its `api_key` is the pool's first key).
        keys: the pool, in order; `(None,)` for a provider that needs no key.
        continuation: continue a cut answer here ("off" | "auto" | "prefill", see
            `herald.llm.continuation`).
        server_kind: the server, when known before any request ("herald-local" for the bundled
            local model); what its responses say of it is learned per endpoint
            (`StreamSupportMemory.learn_server`) and passed to `continues`.
    """

    model: str
    endpoint: Endpoint
    keys: tuple[str | None, ...]
    continuation: Setting = DEFAULT
    server_kind: str | None = None

    def continues(self, learned: str | None = None) -> bool:
        """Whether a cut answer is continued here (the setting, the server, the wire); `learned`:
        the server its responses identified, if any."""
        endpoint = self.endpoint
        kind = self.server_kind or learned
        return continuation_enabled(self.continuation, base_url=endpoint.base_url, api_mode=endpoint.api_mode, server_kind=kind)

    def info(self) -> ProviderInfo:
        return ProviderInfo(self.model, self.endpoint.base_url, len(self.keys))

    def endpoint_for(self, key: int, *, fallback: bool = True) -> Endpoint:
        """The endpoint with the pool's key number `key`.

        Raises:
            ConfigError: a fallback without a key, not on this machine or the local network (the
                primary's missing key is reported when its client is made, naming the variables).
        """
        endpoint = replace(self.endpoint, api_key=self.keys[key])
        if fallback and not endpoint.api_key and not endpoint.is_local:
            hint = key_variable(endpoint.base_url)
            raise ConfigError(
                f"no API key for the fallback {self.model} via {endpoint.host}: set api_key in its entry"
                + (f" (or {hint})" if hint else "")
            )
        return endpoint


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
    continuation = check_setting(entry.get("continuation"), where=f"{where}: continuation")
    server = LOCAL_SERVER if local_url else None
    return ProviderSettings(model, replace(endpoint, api_key=pool[0], key_source=source), pool, continuation, server)


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


__all__ = ["FALLBACK_KEYS", "ProviderSettings", "fallback_settings", "local_provider"]
