"""Tools from Model Context Protocol servers (the `mcp` extra: `pip install 'herald[mcp]'`).

    agent = AIAgent(mcp_servers={"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]}})

Each server's tools are offered to the model as `mcp__<server>__<tool>`. Servers start with the
agent's first use of its tools (or `agent.start_mcp()`), run on a background loop thread, and
stop with `agent.close()`. See `config` (what can be configured), `manager` (the lifecycle),
`connection` (one session, its timeouts and restarts), `tool` (approval) and `convert` (results).

Importing this package does not import `mcp`: configuration is checked without the extra.
"""

from __future__ import annotations

from herald.errors import ConfigError
from herald.mcp.config import MCPServerConfig, merge_servers, parse_mcp_servers, read_mcp_json

INSTALL_HINT = "pip install 'herald[mcp]'"


def mcp_available() -> bool:
    """Is the `mcp` package (the extra) installed and importable?"""
    try:
        import mcp  # noqa: F401 - the servers need it anyway once configured
    except ImportError:
        return False
    return True


def require_mcp() -> None:
    """Raise a one-line `ConfigError` naming the install command when the extra is missing."""
    if not mcp_available():
        raise ConfigError(f"MCP servers are configured but the mcp package is not installed: {INSTALL_HINT}")


__all__ = [
    "INSTALL_HINT",
    "MCPServerConfig",
    "mcp_available",
    "merge_servers",
    "parse_mcp_servers",
    "read_mcp_json",
    "require_mcp",
]
