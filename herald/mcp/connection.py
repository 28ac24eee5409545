"""`ServerConnection`: one MCP server's session, kept alive on the MCP loop thread.

A session task enters the `mcp` client (which starts the process or opens the HTTP stream),
lists the tools, then waits until it is told to drop. Calls come from other tasks on the same
loop. Whatever goes wrong becomes a `CallOutcome` for the model, never an exception:

- the server cannot start or connect (missing command, refused, no answer within
  `connect_timeout`): `ConnectFailed` with one line saying why, for the caller to report;
- a call past `timeout`: "timed out after N s"; the server is sent a cancel and then asked
  to list its tools; if it cannot answer that either, it is restarted, so it is never left wedged;
- the connection breaks mid-call (the process died, the HTTP session ended): an error, and
  the next call starts a fresh session.

Every method here runs on the loop thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx2
import pydantic
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT, Implementation

from herald.llm.redact import redact
from herald.mcp.config import MCPServerConfig, expand_vars, safe_url
from herald.mcp.convert import result_text
from herald.mcp.serverlog import ServerLog

log = logging.getLogger("herald.mcp")

State = Literal["idle", "connecting", "connected", "failed", "closed"]

# A call's own timeout is the server's `timeout`; this bounds the rest (the cancel's write).
_CALL_GRACE = 5.0
_PROBE_LIMIT = 5.0  # at most this long for the "are you still there" after a timeout
_TEARDOWN_LIMIT = 10.0  # the SDK's stdio shutdown: 2 s grace, SIGTERM, 2 s, SIGKILL
_MAX_PAGES = 100
_LOST_MESSAGES = ("Session terminated",)  # an HTTP server that forgot our session


class ConnectFailed(Exception):
    """The server could not be started or reached; the message is one line for people."""


@dataclass(frozen=True)
class CallOutcome:
    """A tool call's result: the tool message's text, and whether it succeeded."""

    text: str
    ok: bool = True


class ServerConnection:
    """One configured MCP server.

    Args:
        config: the server.
        log: its log file (stderr and Herald's notes).
        cwd: the working directory for a stdio server without one of its own (and the
            base of a relative one).
        client_info: how Herald introduces itself to the server.
    """

    def __init__(self, config: MCPServerConfig, log: ServerLog, cwd: Path, client_info: Implementation) -> None:
        self.config = config
        self.log = log
        self.cwd = cwd
        self.client_info = client_info
        self.state: State = "idle"
        self.error = ""
        self.tools: list[Any] = []  # the server's `mcp_types.Tool`s, before Herald's filters
        self._client: Client | None = None
        self._ready: asyncio.Future[Client] | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._probe_task: asyncio.Task[None] | None = None
        self._secrets: list[str] = [*config.headers.values(), *config.env.values()]  # expanded when started

    # ── connecting ──────────────────────────────────────────────────────

    async def connect(self) -> Client:
        """The live client, starting a session when there is none.

        Raises:
            ConnectFailed: the server could not be started or reached (or is closed).
        """
        if self.state == "closed":
            raise ConnectFailed("shut down")
        client = self._client
        if client is not None and self._stop is not None and not self._stop.is_set():
            return client
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one attempt at a time, however many calls wait for it
            if self._ready is None or self._ready.done() and not self._live():
                await self._start_session()
            assert self._ready is not None
            ready = self._ready
        # Shielded: one caller giving up (timeout, interrupt) must not cancel the shared attempt.
        return await asyncio.shield(ready)

    def _live(self) -> bool:
        return self._client is not None and self._stop is not None and not self._stop.is_set()

    async def _start_session(self) -> None:
        previous = self._task
        if previous is not None and not previous.done():
            await asyncio.wait([previous], timeout=_TEARDOWN_LIMIT)  # let the old process go first
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._ready.add_done_callback(_retrieve)
        self._stop = asyncio.Event()
        self.state = "connecting"
        self._task = loop.create_task(self._session(self._ready, self._stop), name=f"mcp-{self.config.name}")

    async def _session(self, ready: asyncio.Future[Client], stop: asyncio.Event) -> None:
        config = self.config
        self.log.note(f"starting {config.transport} server: {config.target}")
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + config.connect_timeout) as scope:
                async with AsyncExitStack() as stack:
                    transport = await self._transport(stack)
                    client = await stack.enter_async_context(Client(transport, client_info=self.client_info))
                    tools = await _list_tools(client)
                    scope.deadline = math.inf  # connected: from here on only `stop` ends the session
                    self._client, self.tools = client, tools
                    self.state, self.error = "connected", ""
                    self.log.note(f"connected ({client.protocol_version}); {len(tools)} tools")
                    ready.set_result(client)
                    await stop.wait()
            if scope.cancelled_caught and not ready.done():
                self._failed(ready, f"no answer within {config.connect_timeout:g} s (connect_timeout)")
        except ConnectFailed as error:
            self._failed(ready, self._redact(str(error)))
        except Exception as error:  # the SDK raises anything from OSError to exception groups
            if not ready.done():
                self._failed(ready, self._describe(error))
            else:
                self.log.note(f"session ended: {self._describe(error)}")
        finally:
            self._client = None
            if not ready.done():
                self._failed(ready, "stopped before it was ready")
            if self.state == "connected":
                self.state = "idle"
            self.log.note("stopped")

    def _failed(self, ready: asyncio.Future[Client], why: str) -> None:
        if self.state != "closed":
            self.state = "failed"
        self.error = why
        self.log.note(f"could not start: {why}")
        log.info("MCP server %s could not start: %s (log: %s)", self.config.name, why, self.log.path)
        if not ready.done():
            ready.set_exception(ConnectFailed(why))

    async def _transport(self, stack: AsyncExitStack) -> Any:
        config = self.config
        try:
            if config.transport == "stdio":
                parameters = self._stdio_parameters()
                self._secrets += (parameters.env or {}).values()
                return stdio_client(parameters, errlog=self.log.stream())
            url = expand_vars(config.url or "")
            headers = {key: expand_vars(value) for key, value in config.headers.items()}
            self._secrets += headers.values()
        except KeyError as missing:
            raise ConnectFailed(f"environment variable {missing.args[0]} is not set") from None
        if config.transport == "sse":
            return sse_client(url, headers=headers, timeout=config.connect_timeout)
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(config.connect_timeout, read=max(300.0, config.timeout)))
        )
        return streamable_http_client(url, http_client=http)

    def _stdio_parameters(self) -> StdioServerParameters:
        config = self.config
        command = expand_vars(config.command or "")
        cwd = self.cwd / os.path.expanduser(expand_vars(config.cwd)) if config.cwd else self.cwd
        if not cwd.is_dir():
            raise ConnectFailed(f"working directory not found: {cwd}")
        return StdioServerParameters(
            command=command,
            args=[expand_vars(arg) for arg in config.args],
            env={key: expand_vars(value) for key, value in config.env.items()},
            cwd=str(cwd),
        )

    # ── calling ─────────────────────────────────────────────────────────

    async def call(self, tool: str, arguments: dict[str, Any], display_name: str) -> CallOutcome:
        """Call `tool` (the server's own name); every failure comes back as a failed outcome."""
        probe = self._probe_task
        if probe is not None and not probe.done():
            await asyncio.wait([probe])  # after a timeout: use the server only once it has answered
        try:
            client = await self.connect()
        except ConnectFailed as error:
            return CallOutcome(f"Error: MCP server '{self.config.name}' is unavailable: {error}", ok=False)
        timeout = self.config.timeout
        try:
            with anyio.fail_after(timeout + _CALL_GRACE):
                result = await client.call_tool(tool, arguments, read_timeout_seconds=timeout)
        except TimeoutError:
            return self._timed_out(client, tool, display_name)
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                return self._timed_out(client, tool, display_name)
            if error.code == CONNECTION_CLOSED or error.message in _LOST_MESSAGES:
                return self._lost(client, display_name, error.message)
            return CallOutcome(f"Error: {display_name} failed: {self._redact(error.message)}", ok=False)
        except pydantic.ValidationError as error:
            return CallOutcome(f"Error: {display_name}: the server's answer is not a valid MCP result ({error.error_count()} problems)", ok=False)
        except Exception as error:  # the transport broke under the call
            return self._lost(client, display_name, self._describe(error))
        if result.is_error:
            return CallOutcome(f"Error: {display_name} failed: {result_text(result)}", ok=False)
        return CallOutcome(result_text(result))

    def _timed_out(self, client: Client, tool: str, display_name: str) -> CallOutcome:
        timeout = self.config.timeout
        self.log.note(f"call {tool} timed out after {timeout:g} s; cancelled")
        if self._probe_task is None or self._probe_task.done():
            self._probe_task = self._spawn(self._probe(client))
        return CallOutcome(
            f"Error: {display_name} timed out after {timeout:g} s (the call was cancelled; "
            f"the limit is the server's `timeout` setting).",
            ok=False,
        )

    def _lost(self, client: Client, display_name: str, why: str) -> CallOutcome:
        self.log.note(f"connection lost during a call: {why}")
        self._drop(client)
        return CallOutcome(
            f"Error: {display_name} failed: the MCP server '{self.config.name}' stopped answering ({why}). "
            "It is restarted on the next call.",
            ok=False,
        )

    async def _probe(self, client: Client) -> None:
        """After a timed-out call: a server that cannot even list its tools is wedged; restart it."""
        with anyio.move_on_after(min(self.config.connect_timeout, _PROBE_LIMIT)):
            try:
                await client.list_tools(cache_mode="bypass")
                return
            except Exception:  # any failure means the same: not answering
                pass
        if self._client is client:
            self.log.note("no answer after a timed-out call; restarting the server")
            self._drop(client)

    def _drop(self, client: Client) -> None:
        """End the session `client` belongs to (if it is still the current one)."""
        if self._client is client and self._stop is not None:
            self._client = None
            self._stop.set()

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # ── closing ─────────────────────────────────────────────────────────

    async def close(self) -> None:
        """End the session and wait for the server to go (bounded). Idempotent."""
        self.state = "closed"
        for pending in list(self._background):
            pending.cancel()
        if self._stop is not None:
            self._stop.set()
        task = self._task
        if task is not None and not task.done():
            done, _ = await asyncio.wait([task], timeout=_TEARDOWN_LIMIT)
            if not done:
                task.cancel()
                await asyncio.wait([task], timeout=_TEARDOWN_LIMIT)
        self.log.close()

    # ── messages ────────────────────────────────────────────────────────

    def _describe(self, error: BaseException) -> str:
        """One line for people: the innermost cause, without header or env values."""
        return self._redact(self._cause(_leaf(error)))

    def _cause(self, error: BaseException) -> str:
        config = self.config
        if isinstance(error, FileNotFoundError) and config.transport == "stdio":
            return f"command not found: {config.command}"
        if isinstance(error, PermissionError) and config.transport == "stdio":
            return f"cannot run {config.command}: permission denied"
        if isinstance(error, httpx2.HTTPStatusError):
            return f"{safe_url(config.url or '')} answered HTTP {error.response.status_code}"
        if isinstance(error, httpx2.TransportError):
            return f"cannot connect to {safe_url(config.url or '')}: {error or type(error).__name__}"
        if isinstance(error, MCPError) and error.code == CONNECTION_CLOSED:
            ended = "the server exited" if config.transport == "stdio" else "the connection closed"
            return f"{ended} before it was ready (see {self.log.path})"
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {text}" if text else type(error).__name__

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)


def _leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _retrieve(future: asyncio.Future[Any]) -> None:
    # A failed attempt nobody awaited (all callers gave up) must not log "never retrieved".
    if not future.cancelled():
        future.exception()


async def _list_tools(client: Client) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools
