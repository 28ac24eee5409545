"""`patch`: exact search-and-replace inside a file."""

from __future__ import annotations

import re
from typing import Any, Mapping

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line
from herald.tools.paths import display, resolve, write_refusal


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _fuzzy_hint(text: str, old: str) -> str:
    """When the exact text is absent but matches ignoring whitespace, say where: the model
    most often gets indentation or line endings wrong."""
    words = old.split()
    if not words:
        return ""
    pattern = r"\s+".join(re.escape(w) for w in words)
    found = re.search(pattern, text)
    if found is None:
        return " Read the file again (read_file) and copy the text exactly."
    return (
        f" A match that differs only in whitespace starts at line {_line_of(text, found.start())}; "
        "copy the text exactly, including indentation and line breaks."
    )


class PatchTool:
    """Replaces `old_string` with `new_string`; refuses ambiguous or missing matches."""

    name = "patch"
    toolset = "file"
    read_only = False
    schema = function_schema(
        "patch",
        "Edit a file by exact search and replace. `old_string` must match the file exactly "
        "(whitespace included) and be unique unless `replace_all` is true; include a few "
        "surrounding lines to make it unique.",
        {
            "path": {"type": "string", "description": "File to edit."},
            "old_string": {"type": "string", "description": "The exact text to find."},
            "new_string": {"type": "string", "description": "The text to put in its place."},
            "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false)."},
        },
        ["path", "old_string", "new_string"],
    )

    def preview(self, args: Mapping[str, Any]) -> str:
        """The path and the start of the text being replaced."""
        return one_line(f"{args.get('path', '')}: {args.get('old_string', '')}", 60)

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Apply the replacement, or explain exactly why it could not be applied."""
        path = resolve(args["path"], ctx.cwd)
        shown = display(path, ctx.cwd)
        old: str = args["old_string"]
        new: str = args["new_string"]
        replace_all = bool(args.get("replace_all", False))
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            return ToolResult(f"Error: {shown} {what}. To create a file use write_file.", ok=False)
        if old == "":
            return ToolResult("Error: 'old_string' is empty; give the exact text to replace.", ok=False)
        if old == new:
            return ToolResult("Error: 'old_string' and 'new_string' are identical; nothing to change.", ok=False)

        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
        count = text.count(old)
        if count == 0:
            return ToolResult(f"Error: old_string not found in {shown}.{_fuzzy_hint(text, old)}", ok=False)
        if count > 1 and not replace_all:
            starts = [m.start() for m in re.finditer(re.escape(old), text)]
            lines = ", ".join(str(_line_of(text, i)) for i in starts[:10])
            return ToolResult(
                f"Error: old_string found {count} times in {shown} (lines {lines}). Include more "
                "surrounding context to make it unique, or set replace_all=true to replace all of them.",
                ok=False,
            )
        refusal = write_refusal(path, ctx)
        if refusal is not None:
            return refusal
        first_line = _line_of(text, text.index(old))
        path.write_bytes(text.replace(old, new).encode("utf-8", errors="surrogateescape"))
        where = f"at line {first_line}" if count == 1 else f"first at line {first_line}"
        return ToolResult(f"replaced {count} occurrence{'s' if count > 1 else ''} in {shown} ({where})")
