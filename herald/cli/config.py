"""The CLI's effective settings: flags > environment > config file > defaults.

Each setting remembers where its value came from so `herald config` can say so.
The config file is `config_dir()/config.toml`, a flat table of the keys in `FIELDS`, and
`[mcp_servers.NAME]` tables (see `herald.mcp.config`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from herald.agent.core import DEFAULT_MODEL
from herald.errors import ConfigError
from herald.llm.endpoint import API_MODES, Endpoint, resolve_endpoint
from herald.mcp.config import MCPServerConfig, servers_from_config_file
from herald.paths import config_dir
from herald.tools.toolsets import TOOLSETS

CONFIG_FILENAME = "config.toml"

# key -> (expected Python type(s), environment variable or None)
FIELDS: dict[str, tuple[tuple[type, ...], str | None]] = {
    "model": ((str,), "HERALD_MODEL"),
    "base_url": ((str,), "HERALD_BASE_URL"),
    "api_key": ((str,), "HERALD_API_KEY"),
    "api_mode": ((str,), "HERALD_API_MODE"),
    "stream": ((bool,), None),
    "toolsets": ((list, str), None),
    "yolo": ((bool,), None),
    "show_reasoning": ((bool,), None),
    "max_tokens": ((int,), None),
    "local": ((bool,), None),
    "local_model": ((str,), "HERALD_LOCAL_MODEL"),
    "mcp_servers": ((dict,), None),
    "mcp_config": ((list, str), None),
}

_TYPE_NAMES = {str: "a string", bool: "true or false", list: "a list of strings", int: "a whole number", dict: "a table"}


@dataclass(frozen=True)
class Settings:
    """What the CLI runs with. `None` means "not set: let the library decide"."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = None
    api_mode: str | None = None
    stream: bool = True
    toolsets: tuple[str, ...] | None = None  # None: every toolset
    yolo: bool = False
    show_reasoning: bool | None = None  # None: shown on a terminal, hidden on a pipe
    debug: bool = False
    max_continuations: int = 3  # how often an answer cut by max_tokens is continued
    max_tokens: int | None = None  # cap on each answer's length (None: the provider's default)
    local: bool = False  # run the bundled local model (herald[local]) instead of a provider
    local_model: str | None = None  # a .gguf file to serve locally instead of the bundled model
    mcp_servers: tuple[MCPServerConfig, ...] = ()  # from [mcp_servers.NAME] tables and mcp_config files
    mcp_config: tuple[str, ...] = ()  # other agents' mcpServers JSON files, read as they are
    # key -> where the value came from ("default", "config file", "env HERALD_MODEL", "flag --model")
    sources: Mapping[str, str] = field(default_factory=dict)
    config_path: Path | None = None

    def source(self, key: str) -> str:
        return self.sources.get(key, "default")

    def endpoint(self) -> Endpoint:
        """Where requests would go, as the library resolves it (raises ConfigError)."""
        return resolve_endpoint(model=self.model, base_url=self.base_url, api_key=self.api_key, api_mode=self.api_mode)


def config_path() -> Path:
    return config_dir() / CONFIG_FILENAME


def load_settings(flags: Mapping[str, Any], *, environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Merge defaults, the config file, the environment and the flags (later wins).

    `flags` holds only what the user passed (None values are ignored).

    Raises:
        ConfigError: the file is unreadable, not TOML, or has an unknown key or a wrong type;
            or an environment value is invalid.
    """
    environ = os.environ if environ is None else environ
    path = config_path() if path is None else path
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in read_config_file(path).items():
        values[key], sources[key] = value, "config file"
    for key, (_, variable) in FIELDS.items():
        if variable and environ.get(variable, "").strip():
            values[key], sources[key] = environ[variable].strip(), f"env {variable}"
    for key, value in flags.items():
        if value is not None:
            values[key], sources[key] = value, f"flag --{key.replace('_', '-')}"
    # Errors about a value name where it came from; for the file, the file itself.
    where = {key: str(path) if source == "config file" else source for key, source in sources.items()}
    if "toolsets" in values:
        values["toolsets"] = _toolsets(values["toolsets"], where["toolsets"])
    if values.get("api_mode") is not None and values["api_mode"] not in API_MODES:
        raise ConfigError(
            f"{where['api_mode']}: unknown api_mode {values['api_mode']!r}: choose one of {', '.join(API_MODES)}"
        )
    if "mcp_servers" in values or "mcp_config" in values:
        values["mcp_config"], values["mcp_servers"] = servers_from_config_file(
            values.get("mcp_servers"), values.get("mcp_config"), path
        )
    settings = Settings(**values, sources=sources, config_path=path)
    return resolve_provider(settings)


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's settings, validated; {} when there is no file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    for key, value in data.items():
        if key not in FIELDS:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(FIELDS)})")
        types = FIELDS[key][0]
        if not isinstance(value, types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ConfigError(f"{path}: {key} must be {wanted}, not {type(value).__name__} {value!r}")
    return data


def _toolsets(value: Any, source: str) -> tuple[str, ...]:
    """A comma list ("file,web") or a list of names, checked against the known toolsets."""
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = [v.strip() for v in value]
    else:
        raise ConfigError(f"{source}: toolsets must be a list of strings")
    unknown = [n for n in names if n not in TOOLSETS]
    if unknown:
        raise ConfigError(f"{source}: unknown toolset {', '.join(unknown)} (known: {', '.join(TOOLSETS)})")
    return tuple(names)


def has_provider(settings: Settings) -> bool:
    """True when a key is configured somewhere, or the base URL is a local server that needs none."""
    try:
        endpoint = settings.endpoint()
    except ConfigError:
        return True  # a bad base URL is reported when used, not replaced by a default
    return bool(endpoint.api_key) or endpoint.is_local


def resolve_provider(settings: Settings) -> Settings:
    """The local default: with no provider or key configured and the `local` extra installed,
    run the bundled local model. Without the extra, the settings stay as they are and
    `require_provider` says how to configure a provider or install the extra.
    """
    if settings.local or settings.local_model or settings.base_url or has_provider(settings):
        return settings  # a base URL without a key is a misconfigured provider, not "none"
    from herald.local import local_extra_available

    if not local_extra_available():
        return settings
    return replace(settings, local=True, sources={**settings.sources, "local": "default: no provider configured"})


def require_provider(settings: Settings) -> None:
    """Raise the library's "no API key" error now rather than at the first model call.

    Raises:
        ConfigError: no key is configured for a remote base URL (or the URL is invalid).
    """
    if settings.local or settings.local_model:
        return
    endpoint = settings.endpoint()
    if not endpoint.api_key and not endpoint.is_local:
        raise ConfigError(
            f"no API key for {endpoint.host}: set HERALD_API_KEY (or the provider's own variable, "
            "e.g. OPENROUTER_API_KEY) or pass --api-key; or run a model on this machine with "
            "pip install 'herald[local]'"
        )
