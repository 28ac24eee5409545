"""`MCPManager`: the MCP servers of one agent, their tools, and their shutdown.

    manager = MCPManager(parse_mcp_servers({"fs": {"command": "my-mcp-server"}}))
    for status in manager.start():          # connects every enabled server at once
        print(status.name, status.state, status.error)
    registry_tools = manager.tools()        # MCPTool objects for the ToolRegistry
    manager.close()                         # every server process is gone afterwards

Sync callers block (`start`, `call`, `close`); async callers on any loop await (`astart`,
`acall`, `aclose`). The sessions themselves always run on the manager's own loop thread.
A manager still open at interpreter exit is closed by an `atexit` hook.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from mcp_types import Implementation

from herald.mcp.config import MCPServerConfig
from herald.mcp.connection import CallOutcome, ServerConnection
from herald.mcp.convert import function_schema, tool_name
from herald.mcp.loop import LoopThread
from herald.mcp.serverlog import ServerLog
from herald.mcp.tool import MCPTool

log = logging.getLogger("herald.mcp")

_OPEN: weakref.WeakSet[MCPManager] = weakref.WeakSet()


@dataclass(frozen=True)
class ToolInfo:
    """One offered tool, for displays.

    Attributes:
        name: the name the model calls (`mcp__<server>__<tool>`).
        remote_name: the server's own name for it.
        read_only: the server marks it read-only.
        asks: calls need the user's approval.
    """

    name: str
    remote_name: str
    read_only: bool
    asks: bool


@dataclass(frozen=True)
class ServerStatus:
    """Where one server stands, for `herald mcp list` and `/tools`.

    Attributes:
        name: the configured name.
        state: "connected", "failed", "disabled", "idle" (not started, or stopped after its
            connection broke: the next call starts it), "connecting" or "closed".
        transport: "stdio", "http" or "sse".
        target: the command line or the URL (without credentials).
        error: why it failed (one line), or "".
        log_path: its log file (stderr and Herald's notes).
        source: where it was configured.
        tools: the tools offered to the model.
        filtered_out: how many of the server's tools `include` / `exclude` left out.
    """

    name: str
    state: str
    transport: str
    target: str
    error: str
    log_path: Path
    source: str
    tools: tuple[ToolInfo, ...] = ()
    filtered_out: int = 0


class MCPManager:
    """The MCP servers of one agent.

    Args:
        servers: the configured servers (disabled ones are listed but never started).
        cwd: where stdio servers run unless they set `cwd` (default: the process's).
        log_dir: where the per-server logs go (default: `<data dir>/logs`).
    """

    def __init__(self, servers: Iterable[MCPServerConfig], *, cwd: Path | None = None, log_dir: Path | None = None) -> None:
        from herald.version import __version__

        self.servers = tuple(servers)
        if log_dir is None:
            from herald.paths import data_dir

            log_dir = data_dir() / "logs"
        info = Implementation(name="herald", version=__version__)
        base = (cwd or Path.cwd()).resolve()
        self._connections = {
            config.name: ServerConnection(config, ServerLog(log_dir / f"mcp-{config.name}.log"), base, info)
            for config in self.servers
            if config.enabled
        }
        self._log_dir = log_dir
        self._names: dict[str, dict[str, str]] = {}  # server -> remote tool name -> model name
        self._loop: LoopThread | None = None
        self._started = False
        self._closed = False
        self._lock = threading.Lock()
        _OPEN.add(self)

    # ── lifecycle ───────────────────────────────────────────────────────

    def start(self) -> list[ServerStatus]:
        """Connect every enabled server, all at once, each within its `connect_timeout`.

        Idempotent: later calls return the statuses. Failures are statuses, never raised.
        """
        loop = self._thread()
        if loop is not None and not self._started:
            loop.run(self._connect_all())
        return self.statuses()

    async def astart(self) -> list[ServerStatus]:
        """`start` for async callers."""
        loop = self._thread()
        if loop is not None and not self._started:
            await loop.arun(self._connect_all())
        return self.statuses()

    def close(self) -> None:
        """Stop every server and the loop thread; no server process outlives this. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run(self._close_all())
            finally:
                loop.stop()
        _OPEN.discard(self)

    async def aclose(self) -> None:
        """`close` for async callers (the waiting happens in a worker thread)."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> MCPManager:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # ── what the agent offers ───────────────────────────────────────────

    def tools(self) -> list[MCPTool]:
        """The registry tools of every connected server, filters applied, names unique."""
        tools: list[MCPTool] = []
        for name, connection in self._connections.items():
            trust = connection.config.trust
            for tool in connection.tools:
                model_name = self._names.get(name, {}).get(tool.name)
                if model_name is None:
                    continue
                read_only = _read_only(tool)
                tools.append(MCPTool(
                    name=model_name,
                    schema=function_schema(model_name, tool.description, tool.input_schema),
                    read_only=read_only,
                    server=name,
                    remote_name=tool.name,
                    asks=not (read_only or trust),
                    manager=self,
                ))
        return tools

    def statuses(self) -> list[ServerStatus]:
        """Every configured server, in configuration order."""
        return [self._status(config) for config in self.servers]

    # ── calls ───────────────────────────────────────────────────────────

    def call(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        display_name: str | None = None,
        *,
        is_interrupted: Callable[[], bool] | None = None,
    ) -> CallOutcome:
        """Call `tool` (the server's own name) and wait.

        Raises:
            InterruptedError: `is_interrupted()` became true; the call was cancelled.
        """
        outcome, loop = self._unavailable(server), self._thread()
        if outcome is not None or loop is None:
            return outcome or CallOutcome("Error: the MCP servers were shut down.", ok=False)
        return loop.run(self._connections[server].call(tool, arguments, display_name or tool), is_interrupted=is_interrupted)

    async def acall(self, server: str, tool: str, arguments: dict[str, Any], display_name: str | None = None) -> CallOutcome:
        """`call` for async callers (cancel the awaiting task to cancel the call)."""
        outcome, loop = self._unavailable(server), self._thread()
        if outcome is not None or loop is None:
            return outcome or CallOutcome("Error: the MCP servers were shut down.", ok=False)
        return await loop.arun(self._connections[server].call(tool, arguments, display_name or tool))

    # ── inside ──────────────────────────────────────────────────────────

    def _thread(self) -> LoopThread | None:
        with self._lock:
            if self._closed or not self._connections:
                return None
            if self._loop is None:
                self._loop = LoopThread(name="herald-mcp")
            return self._loop

    def _unavailable(self, server: str) -> CallOutcome | None:
        if self._closed:
            return CallOutcome("Error: the MCP servers were shut down (the agent was closed).", ok=False)
        if server not in self._connections:
            return CallOutcome(f"Error: no enabled MCP server is named '{server}'.", ok=False)
        return None

    async def _connect_all(self) -> None:
        connections = list(self._connections.values())
        await asyncio.gather(*(c.connect() for c in connections), return_exceptions=True)
        taken: set[str] = set()
        for connection in connections:
            self._names[connection.config.name] = self._name_tools(connection, taken)
        self._started = True

    def _name_tools(self, connection: ServerConnection, taken: set[str]) -> dict[str, str]:
        config, names = connection.config, {}
        for tool in connection.tools:
            if not config.offers(tool.name):
                continue
            model_name = tool_name(config.name, tool.name)
            if model_name in taken:
                connection.log.note(f"tool {tool.name!r} left out: its name {model_name} is taken by another tool")
                continue
            taken.add(model_name)
            names[tool.name] = model_name
        return names

    async def _close_all(self) -> None:
        await asyncio.gather(*(c.close() for c in self._connections.values()), return_exceptions=True)

    def _status(self, config: MCPServerConfig) -> ServerStatus:
        log_path = self._log_dir / f"mcp-{config.name}.log"
        connection = self._connections.get(config.name)
        if connection is None:
            return ServerStatus(config.name, "disabled", config.transport, config.target, "", log_path, config.source)
        names = self._names.get(config.name, {})
        by_name = {tool.name: tool for tool in connection.tools}
        infos = tuple(
            ToolInfo(model, remote, _read_only(by_name[remote]), not (_read_only(by_name[remote]) or config.trust))
            for remote, model in names.items()
            if remote in by_name
        )
        return ServerStatus(
            config.name,
            connection.state,
            config.transport,
            config.target,
            connection.error,
            log_path,
            config.source,
            infos,
            max(0, len(connection.tools) - len(infos)) if connection.tools else 0,
        )


def _read_only(tool: Any) -> bool:
    annotations = getattr(tool, "annotations", None)
    return bool(annotations is not None and annotations.read_only_hint is True)


@atexit.register
def _close_open_managers() -> None:
    """The backstop: servers of agents nobody closed still go when Python exits."""
    for manager in list(_OPEN):
        try:
            manager.close()
        except Exception:  # exiting anyway; one bad close must not keep the others alive
            log.debug("closing MCP servers at exit failed", exc_info=True)
