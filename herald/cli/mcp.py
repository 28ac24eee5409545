"""The CLI's view of MCP servers: `herald mcp list`, the startup warning, and `/tools`.

Plain lines, so `herald mcp list` is as useful in a pipe as on a terminal. Server stderr is
never shown here: it is in each server's log file, which the lines name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from herald.cli.config import Settings, config_path
from herald.cli.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from herald.agent.core import AIAgent
    from herald.mcp.manager import ServerStatus

Echo = Callable[[str], None]


def warn_unavailable(agent: AIAgent, warn: Echo) -> None:
    """Start the agent's MCP servers; one warning line for each that could not start."""
    for status in agent.start_mcp():
        if status.state == "failed":
            warn(f"herald: warning: MCP server '{status.name}' is unavailable: {status.error} (log: {status.log_path})")


def list_servers(settings: Settings, echo: Echo) -> int:
    """`herald mcp list`: connect to every configured server, show its state and tools.

    Returns 0 when every enabled server connected, 1 otherwise.
    """
    if not settings.mcp_servers:
        echo(f"no MCP servers configured (add [mcp_servers.NAME] tables or mcp_config to {config_path()})")
        return EXIT_OK
    from herald.mcp import require_mcp
    from herald.mcp.manager import MCPManager

    require_mcp()
    with MCPManager(settings.mcp_servers) as manager:
        statuses = manager.statuses()
    for line in status_lines(statuses, verbose=True):
        echo(line)
    return EXIT_OK if all(s.state in ("connected", "disabled") for s in statuses) else EXIT_FAILED


def status_lines(statuses: Iterable[ServerStatus], *, verbose: bool = False) -> list[str]:
    """One line per server, then (indented) one per tool; failures say why and where the log is."""
    lines: list[str] = []
    for status in statuses:
        head = f"{status.name}: {_state(status)} · {status.transport} {status.target}"
        if verbose and status.source:
            head += f" · from {status.source}"
        lines.append(head)
        if status.state == "failed":
            lines.append(f"  {status.error} (log: {status.log_path})")
        for tool in status.tools:
            how = "read-only" if tool.read_only else ("trusted" if not tool.asks else "asks first")
            lines.append(f"  {tool.name}  ({how})")
    return lines


def tools_lines(agent: AIAgent) -> list[str]:
    """For `/tools`: the MCP servers and their tools ([] when none are configured)."""
    manager = agent.mcp
    if manager is None:
        return []
    return [f"mcp {line}" if not line.startswith(" ") else line for line in status_lines(manager.statuses())]


def _state(status: Any) -> str:
    if status.state == "connected":
        count = len(status.tools)
        filtered = f", {status.filtered_out} filtered out" if status.filtered_out else ""
        return f"connected, {count} tool{'s' if count != 1 else ''}{filtered}"
    return str(status.state)
