"""`read_file`: show a text file with line numbers."""

from __future__ import annotations

from typing import Any, Mapping

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line
from herald.tools.paths import display, resolve

DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000
_SNIFF_BYTES = 8192


def looks_binary(head: bytes) -> bool:
    """A NUL byte in the first few KB is the cheap, reliable sign of a binary file."""
    return b"\x00" in head


class ReadFileTool:
    """Reads a window of lines from a text file, numbered `   12|text`."""

    name = "read_file"
    toolset = "file"
    read_only = True
    schema = function_schema(
        "read_file",
        "Read a text file. Lines come numbered as `  N|text` (the number and bar are not part of "
        f"the file). Reads at most {DEFAULT_LIMIT} lines per call; use offset/limit for large files.",
        {
            "path": {"type": "string", "description": "File path, absolute or relative to the working directory."},
            "offset": {"type": "integer", "description": "First line to show, 1-based (default 1)."},
            "limit": {"type": "integer", "description": f"Most lines to show (default {DEFAULT_LIMIT})."},
        },
        ["path"],
    )

    def preview(self, args: Mapping[str, Any]) -> str:
        """The path, plus the line window when one was asked for."""
        extra = f" @{args['offset']}" if args.get("offset") else ""
        return one_line(f"{args.get('path', '')}{extra}")

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Return the numbered lines, or a clear error for missing, directory or binary paths."""
        path = resolve(args["path"], ctx.cwd)
        shown = display(path, ctx.cwd)
        offset = args.get("offset", 1)
        limit = args.get("limit", DEFAULT_LIMIT)
        if offset < 1 or limit < 1:
            return ToolResult("Error: 'offset' and 'limit' must be at least 1 (offset is a 1-based line number).", ok=False)
        if not path.exists():
            hint = ""
            if path.parent.is_dir():
                similar = sorted(p.name for p in path.parent.iterdir() if p.name.lower().startswith(path.name[:3].lower()))[:5]
                if similar:
                    hint = f" Similar names in {display(path.parent, ctx.cwd)}: {', '.join(similar)}."
            return ToolResult(f"Error: file not found: {shown}.{hint}", ok=False)
        if path.is_dir():
            return ToolResult(
                f"Error: {shown} is a directory, not a file. List it with search_files (target \"files\") or terminal `ls`.",
                ok=False,
            )
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
        if looks_binary(head):
            return ToolResult(f"Error: {shown} looks like a binary file ({path.stat().st_size:,} bytes); not shown.", ok=False)

        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        total = len(lines)
        if total == 0:
            return ToolResult(f"({shown} is empty)")
        if offset > total:
            return ToolResult(f"Error: {shown} has {total} lines; offset {offset} is past the end.", ok=False)
        end = min(offset - 1 + limit, total)
        width = max(len(str(end)), 5)
        out = []
        for number in range(offset, end + 1):
            line = lines[number - 1]
            if len(line) > MAX_LINE_CHARS:
                line = line[:MAX_LINE_CHARS] + f"… [line cut: {len(line):,} chars]"
            out.append(f"{number:>{width}}|{line}")
        if end < total:
            out.append(f"[showing lines {offset}-{end} of {total}; use offset={end + 1} to read more]")
        return ToolResult("\n".join(out))
