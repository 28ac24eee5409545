"""`MCPTool`: one MCP server tool, as a Herald `Tool` in the registry.

Approval: a call asks the user first (through the same `ApprovalGate` as terminal commands
and writes) unless the server marks the tool `readOnlyHint`, or the server is configured with
`trust = true`. The user chose to install the server, so its own read-only marks are taken
at its word; everything else may write or run things. "always" approves that one tool for
the session; yolo approves everything.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

from herald.tools.base import ToolContext, ToolResult, one_line

if TYPE_CHECKING:
    from herald.mcp.connection import CallOutcome


class ToolCaller(Protocol):
    """What a tool needs of its servers' manager (`herald.mcp.manager.MCPManager`)."""

    def call(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        display_name: str | None = None,
        *,
        is_interrupted: Callable[[], bool] | None = None,
    ) -> CallOutcome: ...

    async def acall(self, server: str, tool: str, arguments: dict[str, Any], display_name: str | None = None) -> CallOutcome: ...

TOOLSET = "mcp"


@dataclass
class MCPTool:
    """A tool of an MCP server, offered to the model as `mcp__<server>__<tool>`.

    Attributes:
        name: the name the model calls.
        schema: the OpenAI function schema (the server's JSON schema as its parameters).
        read_only: the server marks it `readOnlyHint` (so calls may run in parallel).
        server: the server's configured name.
        remote_name: the tool's own name on the server.
        asks: calls need approval (neither read-only nor a trusted server).
    """

    name: str
    schema: dict[str, Any]
    read_only: bool
    server: str
    remote_name: str
    asks: bool
    manager: ToolCaller = field(repr=False)
    toolset: str = TOOLSET

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Ask if needed, then call the server and wait (an interrupt cancels the call)."""
        refused = self._refusal(args, ctx)
        if refused is not None:
            return refused
        try:
            outcome = self.manager.call(self.server, self.remote_name, args, self.name, is_interrupted=ctx.is_interrupted)
        except InterruptedError:
            return ToolResult(f"Stopped {self.name}: interrupted by the user (the call was cancelled).", ok=False)
        return ToolResult(outcome.text, ok=outcome.ok)

    async def arun(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """`run` for async agents: the approval prompt runs in a worker thread."""
        refused = await asyncio.to_thread(self._refusal, args, ctx)
        if refused is not None:
            return refused
        outcome = await self.manager.acall(self.server, self.remote_name, args, self.name)
        return ToolResult(outcome.text, ok=outcome.ok)

    def preview(self, args: Mapping[str, Any]) -> str:
        return one_line(json.dumps(dict(args), ensure_ascii=False)) if args else ""

    def _refusal(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult | None:
        if not self.asks:
            return None
        subject = f"{self.name} {one_line(json.dumps(dict(args), ensure_ascii=False), 300)}"
        reason = f"a tool of MCP server '{self.server}' that is not marked read-only (it may write or run things)"
        verdict = ctx.approval.check_tool_call(self.name, subject, reason, is_interrupted=ctx.is_interrupted)
        return None if verdict.allowed else ToolResult(verdict.message, ok=False)
