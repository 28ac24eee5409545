"""A real MCP server for the tests, written with the same `mcp` package Herald uses.

    python demo_server.py                 # stdio
    python demo_server.py http            # Streamable HTTP on 127.0.0.1, a free port
    python demo_server.py sse             # legacy SSE on 127.0.0.1, a free port

Over HTTP it prints `PORT <n>` on stdout once it listens. `DEMO_NAME` renames the server
and `DEMO_TOOLS` (comma list) limits which tools it registers.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ImageContent, TextContent, ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True)

server = MCPServer(os.environ.get("DEMO_NAME", "demo"), log_level="WARNING")


@server.tool(annotations=READ_ONLY)
def echo(text: str) -> str:
    """Say `text` back."""
    print(f"demo stderr: echo {text!r}", file=sys.stderr, flush=True)
    return text


@server.tool(annotations=READ_ONLY)
def add(a: int, b: int) -> dict[str, int]:
    """Add two numbers (structured result)."""
    return {"sum": a + b}


@server.tool(annotations=READ_ONLY)
def stats() -> CallToolResult:
    """Structured content only: no text block."""
    return CallToolResult(content=[], structured_content={"files": 3, "names": ["a", "b"]})


@server.tool(annotations=READ_ONLY)
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool(annotations=READ_ONLY)
def getenv(name: str) -> str:
    """The value of an environment variable of the server ('' when unset)."""
    return os.environ.get(name, "")


@server.tool(annotations=READ_ONLY)
def where() -> str:
    """The server's working directory."""
    return os.getcwd()


@server.tool(annotations=READ_ONLY)
async def slow(seconds: float) -> str:
    """Wait (without blocking the server), then answer."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(annotations=READ_ONLY)
async def wedge(seconds: float) -> str:
    """Block the server's whole event loop: it answers nothing else meanwhile."""
    time.sleep(seconds)
    return "unwedged"


@server.tool(annotations=READ_ONLY)
def picture() -> list[TextContent | ImageContent]:
    """Text and a (tiny, fake) PNG."""
    return [TextContent(text="a picture:"), ImageContent(data="aGVsbG8gd29ybGQ=", mime_type="image/png")]


@server.tool(annotations=READ_ONLY)
def fail(why: str) -> str:
    """Always fails."""
    raise ValueError(why)


@server.tool()
def write_note(name: str, text: str) -> str:
    """Write a file in the server's working directory (not read-only: needs approval)."""
    Path(name).write_text(text)
    return f"wrote {len(text)} characters to {name}"


@server.tool(name="dotted.name", annotations=READ_ONLY)
def dotted() -> str:
    """A name with characters providers do not accept."""
    return "dotted ok"


@server.tool(annotations=READ_ONLY)
def maybe(value: str | None = None, count: int | None = None) -> str:
    """Optional arguments (union types in the schema)."""
    return f"value={value} count={count}"


def _limit_tools() -> None:
    wanted = os.environ.get("DEMO_TOOLS")
    if wanted:
        keep = set(wanted.split(","))
        for tool in list(server._tool_manager.list_tools()):
            if tool.name not in keep:
                server.remove_tool(tool.name)


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(os.environ.get("DEMO_PORT", "0"))))
    sock.listen(128)
    return sock


async def _serve_http(kind: str) -> None:
    import uvicorn

    app = server.sse_app() if kind == "sse" else server.streamable_http_app()
    sock = _listen()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])


if __name__ == "__main__":
    _limit_tools()
    kind = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if kind == "stdio":
        server.run()
    else:
        asyncio.run(_serve_http(kind))
