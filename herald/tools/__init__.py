"""The agent's tools, toolsets and the approval of dangerous actions.

The conversation loop needs only this:

    registry = ToolRegistry.from_toolsets(enabled, disabled, memory_enabled=True)
    ctx = ToolContext(cwd=Path.cwd(), approval=ApprovalGate(callback), memory=store,
                      is_interrupted=agent_interrupted)
    tools = registry.schemas()                              # -> the model
    result = registry.execute(name, arguments_json, ctx)    # never raises for model mistakes
"""

from herald.tools.approval import (
    ApprovalCallback,
    ApprovalGate,
    ApprovalRequest,
    Decision,
    Verdict,
)
from herald.tools.base import MemoryStore, Tool, ToolContext, ToolResult
from herald.tools.registry import ToolRegistry
from herald.tools.toolsets import TOOLSETS, resolve_toolsets
from herald.tools.web_search import SearxngBackend, WebSearchBackend

__all__ = [
    "ApprovalCallback",
    "ApprovalGate",
    "ApprovalRequest",
    "Decision",
    "MemoryStore",
    "SearxngBackend",
    "TOOLSETS",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "ToolResult",
    "Verdict",
    "WebSearchBackend",
    "resolve_toolsets",
]
