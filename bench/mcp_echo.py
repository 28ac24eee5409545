"""The MCP server the MCP benchmark talks to over stdio: one `echo` tool."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("bench-echo", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Say `text` back."""
    return text


if __name__ == "__main__":
    server.run()
