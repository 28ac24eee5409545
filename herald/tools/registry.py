"""`ToolRegistry`: the one object the conversation loop talks to about tools.

The loop sends `schemas()` to the model and hands each tool call to `execute()`, which
never raises for the model's mistakes: every problem comes back as a `ToolResult` the
model can read and act on.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Iterable, Mapping

from herald.tools.base import Tool, ToolContext, ToolResult
from herald.tools.capping import cap_text
from herald.tools.memory import MemoryTool
from herald.tools.patch import PatchTool
from herald.tools.read_file import ReadFileTool
from herald.tools.search_files import SearchFilesTool
from herald.tools.terminal import TerminalTool
from herald.tools.toolsets import resolve_toolsets
from herald.tools.validate import ArgumentError, parse_arguments
from herald.tools.web_extract import WebExtractTool
from herald.tools.web_search import WebSearchBackend, WebSearchTool, backend_from_env
from herald.tools.write_file import WriteFileTool

log = logging.getLogger("herald.tools")

MEMORY_DISABLED = "memory is disabled for this session (start without --skip-memory / pass memory_enabled=True)."


class ToolRegistry:
    """The tools offered to the model, and the single door through which they run.

    Args:
        tools: the tools to offer.
        unavailable: tool name -> why it is not offered (shown if the model calls it anyway,
            and for the CLI to display).
    """

    def __init__(self, tools: Iterable[Tool], unavailable: Mapping[str, str] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool
        self.unavailable: dict[str, str] = dict(unavailable or {})

    @classmethod
    def from_toolsets(
        cls,
        enabled: Iterable[str] | None = None,
        disabled: Iterable[str] = (),
        *,
        web_search_backend: WebSearchBackend | None = None,
        memory_enabled: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> ToolRegistry:
        """Build the registry for the chosen toolsets (all of them when `enabled` is None).

        `web_search` is offered only with a backend: `web_search_backend`, else one named by
        the environment (`HERALD_WEB_SEARCH`, `HERALD_SEARXNG_URL`). `memory` is offered only
        with `memory_enabled`. Tools left out are explained in `unavailable`.
        Raises `herald.errors.ConfigError` for an unknown toolset name.
        """
        active = resolve_toolsets(enabled, disabled)
        env = os.environ if environ is None else environ
        tools: list[Tool] = []
        unavailable: dict[str, str] = {}
        if "terminal" in active:
            tools.append(TerminalTool())
        if "file" in active:
            tools += [ReadFileTool(), WriteFileTool(), PatchTool(), SearchFilesTool()]
        if "web" in active:
            tools.append(WebExtractTool())
            backend, why = (web_search_backend, "") if web_search_backend is not None else backend_from_env(env)
            if backend is not None:
                tools.append(WebSearchTool(backend))
            else:
                unavailable["web_search"] = why
        if "memory" in active:
            if memory_enabled:
                tools.append(MemoryTool())
            else:
                unavailable["memory"] = MEMORY_DISABLED
        return cls(tools, unavailable)

    def with_tools(self, tools: Iterable[Tool], unavailable: Mapping[str, str] | None = None) -> ToolRegistry:
        """A new registry that also offers `tools` (from MCP servers, say); names stay unique."""
        return ToolRegistry([*self._tools.values(), *tools], {**self.unavailable, **(unavailable or {})})

    # --- what the model sees --------------------------------------------

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI function schemas of every offered tool, in a stable order."""
        return [tool.schema for tool in self._tools.values()]

    def names(self) -> list[str]:
        """Names of the offered tools."""
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called `name`, if offered."""
        return self._tools.get(name)

    @property
    def web_search_message(self) -> str:
        """Why web_search is not offered (how to configure a backend), or "" when it is."""
        return self.unavailable.get("web_search", "")

    # --- what the loop asks ----------------------------------------------

    def is_read_only(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> bool:
        """May this call run in parallel with others? False for unknown tools.

        Give the call's `arguments` for tools whose answer depends on them (memory "read").
        """
        tool = self._tools.get(name)
        if tool is None:
            return False
        per_call = getattr(tool, "read_only_for", None)
        if per_call is not None and arguments is not None:
            try:
                args = json.loads(arguments) if isinstance(arguments, str) else arguments
            except json.JSONDecodeError:
                return False
            return isinstance(args, Mapping) and bool(per_call(args))
        return bool(tool.read_only)

    def preview(self, name: str, arguments: str | Mapping[str, Any] | None) -> str:
        """A one-line argument summary for progress displays; never raises."""
        tool = self._tools.get(name)
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments or {})
            if tool is not None and isinstance(args, dict):
                return tool.preview(args)
        except Exception:  # a preview must never break the display
            pass
        return str(arguments or "")[:80]

    def execute(self, name: str, raw_arguments: str | Mapping[str, Any] | None, ctx: ToolContext) -> ToolResult:
        """Run one tool call and return what to send back to the model (capped to `ctx.output_cap`).

        Unknown tools, malformed arguments and tool failures become `ok=False` results.
        """
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(self._unknown_tool_message(name), ok=False)
        try:
            args = parse_arguments(raw_arguments, tool.schema["function"]["parameters"])
        except ArgumentError as exc:
            return ToolResult(f"Error: invalid arguments for {name}: {exc}", ok=False)
        if ctx.is_interrupted():
            return ToolResult(f"Skipped {name}: interrupted by the user.", ok=False)
        try:
            result = tool.run(args, ctx)
        except Exception as exc:  # a tool bug or an OS error must not end the conversation
            log.debug("tool %s failed", name, exc_info=True)
            return ToolResult(cap_text(f"Error: {name} failed: {type(exc).__name__}: {exc}", ctx.output_cap), ok=False)
        return ToolResult(cap_text(result.content, ctx.output_cap), ok=result.ok)

    def _unknown_tool_message(self, name: str) -> str:
        available = ", ".join(self._tools) or "(none)"
        if name in self.unavailable:
            return f"Error: tool {name!r} is not available: {self.unavailable[name]} Available tools: {available}."
        return f"Error: unknown tool {name!r}. Available tools: {available}."

