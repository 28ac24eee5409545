"""Which MCP servers to use: `MCPServerConfig`, parsed from Herald's tables or other agents' JSON.

Two spellings are read:

- Herald's: `{"NAME": {"command": …} | {"url": …}, …}` (the `[mcp_servers.NAME]` tables of
  config.toml, or `AIAgent(mcp_servers=…)`). Unknown keys are errors: a typo must not
  silently drop a setting.
- Other agents' `mcpServers` JSON (Claude Desktop, Cursor, Claude Code's `.mcp.json`, VS Code's
  `servers`, Cline, Windsurf): read as it is. Keys Herald has no use for (`autoApprove`, …)
  are ignored, `disabled` and `serverUrl` are understood.

This module needs no `mcp` package: configuration can be checked without the extra installed.
Every problem raises `ConfigError` with one line naming the file (or argument) and the server.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from herald.errors import ConfigError

Transport = Literal["stdio", "http", "sse"]

DEFAULT_TIMEOUT = 120.0
DEFAULT_CONNECT_TIMEOUT = 30.0
# Tool names the model sees are `mcp__<server>__<tool>`, at most 64 characters (OpenAI and
# Anthropic both cap function names there), so a server name leaves room for the tool's.
MAX_NAME = 32
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

_TRANSPORTS: dict[str, Transport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamableHttp": "http",
    "sse": "sse",
}
HERALD_KEYS = (
    "command", "args", "env", "cwd", "url", "headers", "type",
    "timeout", "connect_timeout", "include", "exclude", "enabled", "trust",
)
# Spellings of other agents that mean something to Herald; the rest of their keys are ignored.
_FOREIGN_ALIASES = {"serverUrl": "url", "transport": "type"}


@dataclass(frozen=True)
class MCPServerConfig:
    """One MCP server: a command to run (stdio) or a URL to connect to (Streamable HTTP, SSE).

    Values may name environment variables as `${VAR}` or `${VAR:-default}`; they are expanded
    when the server starts, so secrets can stay out of config files.

    Examples:
        MCPServerConfig("fs", command="npx", args=("-y", "@modelcontextprotocol/server-filesystem", "."))
        MCPServerConfig("docs", url="https://example.org/mcp", headers={"Authorization": "Bearer ${DOCS_TOKEN}"},
                        include=("search_*",), timeout=30)

    Attributes:
        name: the server's name; its tools are offered as `mcp__<name>__<tool>`.
        command / args / env / cwd: how to start a stdio server (`env` is added to a minimal
            inherited environment: PATH, HOME, USER, …).
        url / headers: where a Streamable HTTP (or legacy SSE) server is; header values may be secrets.
        transport: "stdio", "http" or "sse" (from `type`, else from command / url).
        timeout: seconds one tool call may take before it becomes a tool error.
        connect_timeout: seconds to start (or reach) the server and list its tools.
        include / exclude: tool-name patterns (shell-style, `read_*`) of the server's own tool
            names; empty `include` means all.
        enabled: False keeps the entry but never starts it.
        trust: True runs its tools without asking, like read-only ones.
        source: where it was configured, for messages.
    """

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None
    url: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    transport: Transport = "stdio"
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    enabled: bool = True
    trust: bool = False
    source: str = ""

    def offers(self, tool_name: str) -> bool:
        """Does the include / exclude filter let this (server-side) tool name through?"""
        if self.include and not any(fnmatch.fnmatchcase(tool_name, p) for p in self.include):
            return False
        return not any(fnmatch.fnmatchcase(tool_name, p) for p in self.exclude)

    @property
    def target(self) -> str:
        """What is started or reached, for people: the command line, or the URL without
        credentials, query or fragment (they may carry tokens)."""
        if self.transport == "stdio":
            return " ".join([self.command or "", *self.args]).strip()
        return safe_url(self.url or "")


def parse_mcp_servers(value: Any, *, source: str = "mcp_servers") -> tuple[MCPServerConfig, ...]:
    """The server configs in `value`, checked.

    Args:
        value: None; Herald's `{name: {...}}`; a document with an `mcpServers` table (other
            agents' JSON, read as it is); or an iterable of `MCPServerConfig`.
        source: where `value` came from, named in error messages (a file path, "mcp_servers").

    Raises:
        ConfigError: one line naming `source`, the server and what is wrong.
    """
    if value is None:
        return ()
    if isinstance(value, Mapping):
        if "mcpServers" in value:
            return _parse_foreign_table(value["mcpServers"], source)
        return _parse_table(value, source, foreign=False)
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{source}: mcp_servers must be a table of servers, not a string")
    configs = tuple(value)
    for config in configs:
        if not isinstance(config, MCPServerConfig):
            raise ConfigError(f"{source}: mcp_servers items must be MCPServerConfig, not {type(config).__name__}")
    _check_unique(configs, source)
    return configs


def read_mcp_json(path: Path) -> tuple[MCPServerConfig, ...]:
    """The servers of another agent's JSON config file (`mcpServers`, or VS Code's `servers`).

    Raises:
        ConfigError: the file is missing, unreadable, not JSON, or has no server table.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such MCP config file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with an \"mcpServers\" table")
    table = data.get("mcpServers", data.get("servers"))
    if table is None:
        raise ConfigError(f"{path}: no \"mcpServers\" (or \"servers\") table")
    return _parse_foreign_table(table, str(path))


def merge_servers(*groups: Iterable[MCPServerConfig]) -> tuple[MCPServerConfig, ...]:
    """One list from several sources; a later server replaces an earlier one of the same name."""
    merged: dict[str, MCPServerConfig] = {}
    for group in groups:
        for config in group:
            merged.pop(config.name, None)
            merged[config.name] = config
    return tuple(merged.values())


def expand_vars(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with `${VAR}` and `${VAR:-default}` replaced from the environment.

    Raises:
        KeyError: a variable without a default is not set (the key is its name).
    """
    env = os.environ if environ is None else environ

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        raise KeyError(name)

    return _VARIABLE.sub(one, text)


def safe_url(url: str) -> str:
    """`url` without user info, query or fragment: what may be shown and logged."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.split("?")[0].split("#")[0]
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    return f"{scheme}://{host}{slash}{path.split('?')[0].split('#')[0]}"


# ── parsing ─────────────────────────────────────────────────────────────


def _parse_foreign_table(table: Any, source: str) -> tuple[MCPServerConfig, ...]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: mcpServers must be an object of servers")
    return _parse_table(table, source, foreign=True)


def _parse_table(table: Mapping[Any, Any], source: str, *, foreign: bool) -> tuple[MCPServerConfig, ...]:
    configs = []
    for name, entry in table.items():
        name = str(name)
        if foreign:
            name = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:MAX_NAME] or "server"
        _check_name(name, source)
        where = f"{source}: mcp_servers.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: must be a table with command or url, not {type(entry).__name__}")
        configs.append(_parse_entry(name, _foreign_keys(entry) if foreign else dict(entry), where, source, foreign))
    result = tuple(configs)
    _check_unique(result, source)
    return result


def _foreign_keys(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Another agent's entry in Herald's keys; keys Herald has no use for are dropped."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        key = _FOREIGN_ALIASES.get(key, key)
        if key == "disabled":
            out["enabled"] = not value if isinstance(value, bool) else value
        elif key in HERALD_KEYS:
            out[key] = value
    return out


def _parse_entry(name: str, entry: dict[str, Any], where: str, source: str, foreign: bool) -> MCPServerConfig:
    unknown = [key for key in entry if key not in HERALD_KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(HERALD_KEYS)})")
    command = _optional_str(entry, "command", where)
    url = _optional_str(entry, "url", where)
    transport = _transport(entry, command, url, where)
    if transport == "stdio" and url is not None:
        raise ConfigError(f"{where}: a stdio server takes command, not url")
    if transport != "stdio" and command is not None:
        raise ConfigError(f"{where}: give command (a stdio server) or url (an HTTP server), not both")
    if transport != "stdio" and not re.match(r"^(https?://|\$\{)", url or ""):
        raise ConfigError(f"{where}: url must start with http:// or https://, not {safe_url(url or '')!r}")
    return MCPServerConfig(
        name=name,
        command=command,
        args=_strings(entry, "args", where, foreign),
        env=_string_table(entry, "env", where, foreign),
        cwd=_optional_str(entry, "cwd", where),
        url=url,
        headers=_string_table(entry, "headers", where, foreign),
        transport=transport,
        timeout=_seconds(entry, "timeout", DEFAULT_TIMEOUT, where),
        connect_timeout=_seconds(entry, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, where),
        include=_strings(entry, "include", where, foreign),
        exclude=_strings(entry, "exclude", where, foreign),
        enabled=_bool(entry, "enabled", True, where),
        trust=_bool(entry, "trust", False, where),
        source=source,
    )


def _transport(entry: Mapping[str, Any], command: str | None, url: str | None, where: str) -> Transport:
    kind = entry.get("type")
    if kind is None:
        if command is None and url is None:
            raise ConfigError(f"{where}: needs command (a stdio server) or url (a Streamable HTTP server)")
        if command is not None and url is not None:
            raise ConfigError(f"{where}: give command (a stdio server) or url (an HTTP server), not both")
        return "stdio" if command is not None else "http"
    if not isinstance(kind, str) or kind not in _TRANSPORTS:
        raise ConfigError(f"{where}: type must be \"stdio\", \"http\" or \"sse\", not {kind!r}")
    transport = _TRANSPORTS[kind]
    if transport == "stdio" and command is None:
        raise ConfigError(f"{where}: a stdio server needs command")
    if transport != "stdio" and url is None:
        raise ConfigError(f"{where}: an {kind} server needs url")
    return transport


def _check_name(name: str, source: str) -> None:
    if not _NAME.match(name):
        raise ConfigError(f"{source}: MCP server name {name!r} may only use letters, digits, '-' and '_'")
    if len(name) > MAX_NAME:
        raise ConfigError(f"{source}: MCP server name {name!r} is longer than {MAX_NAME} characters")


def _check_unique(configs: tuple[MCPServerConfig, ...], source: str) -> None:
    seen: set[str] = set()
    for config in configs:
        if config.name in seen:
            raise ConfigError(f"{source}: two MCP servers are named {config.name!r}")
        seen.add(config.name)


def _optional_str(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string, not {_shown(key, value)}")
    return value


def _strings(entry: Mapping[str, Any], key: str, where: str, lenient: bool) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if isinstance(value, str) and key in ("include", "exclude"):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) or (lenient and _scalar(v)) for v in value):
        return tuple(_text(v) for v in value)
    raise ConfigError(f"{where}: {key} must be a list of strings, not {_shown(key, value)}")


def _string_table(entry: Mapping[str, Any], key: str, where: str, lenient: bool) -> dict[str, str]:
    value = entry.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {key} must be a table of strings, not {type(value).__name__}")
    out = {}
    for name, item in value.items():
        if not (isinstance(item, str) or (lenient and _scalar(item))):
            # The value itself is not shown: env and header values are often secrets.
            raise ConfigError(f"{where}: {key}.{name} must be a string, not {type(item).__name__}")
        out[str(name)] = _text(item)
    return out


def _seconds(entry: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ConfigError(f"{where}: {key} must be a number of seconds above 0, not {value!r}")
    return float(value)


def _bool(entry: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shown(key: str, value: Any) -> str:
    if key in ("url",):
        return type(value).__name__
    return f"{type(value).__name__} {value!r}"[:80]


def servers_from_config_file(
    tables: Any, files: Any, path: Path
) -> tuple[tuple[str, ...], tuple[MCPServerConfig, ...]]:
    """The servers a config.toml names: the `mcp_config` JSON files first (other agents'
    `mcpServers`, read as they are), then its `[mcp_servers.NAME]` tables, which replace a
    server of the same name. Relative file paths are relative to the config file.

    Returns:
        The JSON files read, and the servers.

    Raises:
        ConfigError: one line naming the file and what is wrong.
    """
    names = (files,) if isinstance(files, str) else tuple(files or ())
    if not all(isinstance(name, str) for name in names):
        raise ConfigError(f"{path}: mcp_config must be a path or a list of paths")
    paths = tuple(path.parent / Path(name).expanduser() for name in names)
    from_files = [read_mcp_json(json_path) for json_path in paths]
    if tables is not None and not isinstance(tables, Mapping):
        raise ConfigError(f"{path}: mcp_servers must be tables: [mcp_servers.NAME]")
    own = _parse_table(tables, str(path), foreign=False) if tables else ()
    return tuple(str(p) for p in paths), merge_servers(*from_files, own)
