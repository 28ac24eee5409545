"""`herald serve`'s configuration: one TOML file, validated before anything listens.

    host = "127.0.0.1"
    port = 8080
    keys = ["sk-gw-…"]                      # what clients send; none means no auth (loopback only)
    stream_idle_timeout = 30                 # the CLI's limits, same names; HERALD_STREAM_* also apply

    [[models]]
    name = "fast"                            # what clients ask for
    providers = [                            # tried in order: each table is a [[fallback]] table
      { model = "gpt-4o-mini", base_url = "https://api.openai.com/v1", api_key = "sk-…", continuation = "off" },
      { model = "claude-haiku-4-5", base_url = "https://api.anthropic.com", api_key = "sk-ant-…" },
    ]

Provider tables are validated by `herald.llm.providers.fallback_settings`, the same code that
reads `[[fallback]]`, so a key added there is a key here. Every error is one line naming the
file and the key (`ConfigError`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from herald.errors import ConfigError
from herald.llm.endpoint import resolve_endpoint
from herald.llm.providers import ProviderSettings, fallback_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_GRACE = 30.0
DEFAULT_KEEPALIVE = 10.0

# Top-level number keys: (smallest allowed, whether 0 / "none" switches it off).
_SECONDS: dict[str, bool] = {
    "stream_first_byte_timeout": True,
    "stream_idle_timeout": True,
    "stream_total_timeout": True,
    "request_timeout": False,
    "failover_cooldown": False,
    "shutdown_grace": False,
    "keepalive_after": False,
}
_TOP_KEYS = ("host", "port", "keys", "models", "max_retries", "max_concurrency", *_SECONDS)


@dataclass(frozen=True)
class ModelRoute:
    """One public model: the name clients ask for and the provider tables behind it, in order."""

    name: str
    providers: tuple[Mapping[str, Any], ...]
    """Provider tables as written (keys inside: never log them)."""

    def client_arguments(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """`AsyncClient`'s provider arguments: the first table is the primary, the rest fall back.

        Every table is resolved as a `[[fallback]]` table is (`resolve_providers`): its own keys,
        else its host's own variable (`OPENAI_API_KEY` for api.openai.com, …) read from `environ`
        (default `os.environ`). The client is then given `environ={}`, so nothing else of the
        environment reaches a provider: not `HERALD_API_KEY` / `HERALD_API_KEYS` (the CLI's
        primary's, which would go to every model's first host), nor `HERALD_API_MODE`.
        """
        first, *rest = (_explicit(settings) for settings in resolve_providers(self.providers, self.name, environ))
        return {**first, "fallback": rest, "environ": {}}


@dataclass(frozen=True)
class ServeConfig:
    """What `herald serve` runs with.

    Attributes:
        host / port: where it listens.
        keys: bearer keys clients must send (empty: no auth, only on a loopback host).
        models: the public models, in the file's order.
        limits: `AsyncClient` keyword arguments (stream / request limits, retries, cooldown);
            absent ones are left to the client, which reads `HERALD_STREAM_*`.
        shutdown_grace: seconds in-flight requests may finish after SIGTERM.
        keepalive_after: seconds without content before SSE comments keep a held stream open
            (which commits its 200).
    """

    models: tuple[ModelRoute, ...]
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    keys: tuple[str, ...] = ()
    limits: Mapping[str, Any] = field(default_factory=dict)
    shutdown_grace: float = DEFAULT_GRACE
    keepalive_after: float = DEFAULT_KEEPALIVE
    path: Path | None = None

    def secrets(self) -> tuple[str, ...]:
        """Every key in the file (client keys and provider keys), for scrubbing."""
        provider_keys = [
            key
            for route in self.models
            for table in route.providers
            for key in (table.get("api_key"), *(table.get("api_keys") or ()))
            if key
        ]
        return tuple(dict.fromkeys([*self.keys, *provider_keys]))


def load_config(path: Path, *, host: str | None = None, port: int | None = None) -> ServeConfig:
    """Read and validate FILE; `host` / `port` (flags) win over the file's.

    Raises:
        ConfigError: "FILE: KEY: what is wrong", one line.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return _parse(data, host=host, port=port, path=path)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def _parse(data: Mapping[str, Any], *, host: str | None, port: int | None, path: Path | None) -> ServeConfig:
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(f"unknown key {key!r} (known: {', '.join(_TOP_KEYS)})")
    host = host if host is not None else _string(data.get("host", DEFAULT_HOST), "host")
    port = port if port is not None else _integer(data.get("port", DEFAULT_PORT), "port", 0)
    if not 0 <= port <= 65535:
        raise ConfigError(f"port: must be between 0 and 65535, not {port}")
    keys = _keys(data.get("keys", []))
    if not keys and not _loopback(host):
        raise ConfigError(f"keys: required when listening on {host} (no keys means no auth: loopback hosts only)")
    if "models" not in data:
        raise ConfigError("models: give at least one [[models]] table (name, providers)")
    raw_models = data["models"]
    if not isinstance(raw_models, list) or not raw_models:
        raise ConfigError("models: must be an array of tables ([[models]]), at least one")
    models = tuple(_model(entry, number) for number, entry in enumerate(raw_models, 1))
    names = [m.name for m in models]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"models: the name {duplicate!r} is used twice")
    limits: dict[str, Any] = {}
    for key, may_be_off in _SECONDS.items():
        if key in data and key not in ("shutdown_grace", "keepalive_after"):
            limits[key] = _seconds(data[key], key, may_be_off)
    for key in ("max_retries", "max_concurrency"):
        if key in data:
            limits[key] = _integer(data[key], key, 0 if key == "max_retries" else 1)
    return ServeConfig(
        models=models,
        host=host,
        port=port,
        keys=keys,
        limits=limits,
        shutdown_grace=_seconds(data.get("shutdown_grace", DEFAULT_GRACE), "shutdown_grace", False) or 0.0,
        keepalive_after=_seconds(data.get("keepalive_after", DEFAULT_KEEPALIVE), "keepalive_after", False) or 0.0,
        path=path,
    )


def _model(entry: Any, number: int) -> ModelRoute:
    where = f"models[{number}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be a table with name and providers")
    for key in entry:
        if key not in ("name", "providers"):
            raise ConfigError(f"{where}: unknown key {key!r} (known: name, providers)")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.name: must be a non-empty string")
    where = f"models[{number}] ({name})"
    providers = entry.get("providers")
    if not isinstance(providers, list) or not providers:
        raise ConfigError(f"{where}.providers: must be an array of provider tables, at least one")
    resolve_providers(providers, where)
    return ModelRoute(name, tuple(providers))


def resolve_providers(tables: Any, where: str, environ: Mapping[str, str] | None = None) -> list[ProviderSettings]:
    """Each table resolved as a `[[fallback]]` table, by the same code; the first names its own
    model and base_url (the others default to the first's, as fallbacks do to the primary's).

    Raises:
        ConfigError: "WHERE.providers[N]: what is wrong" (a bad table, or no key for a remote host).
    """
    anchor = ProviderSettings("", resolve_endpoint(model="-", base_url="http://127.0.0.1", environ={}), (None,))
    resolved: list[ProviderSettings] = []
    for number, table in enumerate(tables, 1):
        named = isinstance(table, Mapping) and isinstance(table.get("model"), str) and isinstance(table.get("base_url"), str)
        if number == 1 and isinstance(table, Mapping) and not named:
            raise ConfigError(f"{where}.providers[1]: the first provider needs model and base_url")
        try:
            (settings,) = fallback_settings([table], primary=anchor, environ=environ)
        except ConfigError as error:
            message = str(error).removeprefix("fallback 1: ")
            raise ConfigError(f"{where}.providers[{number}]: {message}") from None
        if settings.keys[0] is None and not settings.endpoint.is_local:
            raise ConfigError(f"{where}.providers[{number}]: api_key: required for {settings.endpoint.host}")
        if number == 1:
            anchor = settings
        resolved.append(settings)
    return resolved


def _explicit(settings: ProviderSettings) -> dict[str, Any]:
    """A resolved provider as explicit `AsyncClient` / `[[fallback]]` arguments (nothing left to the environment)."""
    return {
        "model": settings.model,
        "base_url": settings.endpoint.base_url,
        "api_mode": settings.endpoint.api_mode,
        "api_keys": [key for key in settings.keys if key],
        "continuation": settings.continuation,
    }


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: must be a non-empty string, not {value!r}")
    return value.strip()


def _integer(value: Any, key: str, smallest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise ConfigError(f"{key}: must be a whole number ≥ {smallest}, not {value!r}")
    return value


def _seconds(value: Any, key: str, may_be_off: bool) -> float | None:
    if may_be_off and (value == 0 or (isinstance(value, str) and value.strip().lower() in ("none", "off"))):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        off = ' (0 or "off": no limit)' if may_be_off else ""
        raise ConfigError(f"{key}: must be a number of seconds ≥ 0{off}, not {value!r}")
    if value == 0 and may_be_off:
        return None
    return float(value)


def _keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        raise ConfigError("keys: must be a list of non-empty strings")
    return tuple(k.strip() for k in value)


def _loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


__all__ = ["DEFAULT_GRACE", "DEFAULT_KEEPALIVE", "ModelRoute", "ServeConfig", "load_config", "resolve_providers"]
