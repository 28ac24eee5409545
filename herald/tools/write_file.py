"""`write_file`: create or overwrite a file."""

from __future__ import annotations

from typing import Any, Mapping

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line
from herald.tools.paths import display, resolve, write_refusal


class WriteFileTool:
    """Writes a whole file, creating parent directories; writes outside the working dir ask."""

    name = "write_file"
    toolset = "file"
    read_only = False
    schema = function_schema(
        "write_file",
        "Create or overwrite a file with the given content (parent directories are created). "
        "To change part of an existing file, prefer `patch`.",
        {
            "path": {"type": "string", "description": "File path, absolute or relative to the working directory."},
            "content": {"type": "string", "description": "The complete new content of the file."},
        },
        ["path", "content"],
    )

    def preview(self, args: Mapping[str, Any]) -> str:
        """The path and the size written."""
        return one_line(f"{args.get('path', '')} ({len(str(args.get('content', '')))} chars)")

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Write the file and say how much was written."""
        path = resolve(args["path"], ctx.cwd)
        shown = display(path, ctx.cwd)
        if path.is_dir():
            return ToolResult(f"Error: {shown} is a directory; give a file path.", ok=False)
        refusal = write_refusal(path, ctx)
        if refusal is not None:
            return refusal
        content: str = args["content"]
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8")
        path.write_bytes(data)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        verb = "overwrote" if existed else "created"
        return ToolResult(f"{verb} {shown}: {len(data):,} bytes, {lines} lines")
