"""`search_files`: find text in files (content) or files by name, with ripgrep when present."""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator, Mapping

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line
from herald.tools.paths import display, resolve
from herald.tools.read_file import looks_binary

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_LINE_CHARS = 300
MAX_FILE_BYTES = 5_000_000
RG_TIMEOUT = 60
NO_RG_ENV = "HERALD_NO_RG"
# The fallback cannot read .gitignore; skip what is almost always noise.
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".tox"}
_GLOB_CHARS = set("*?[")


def _name_matches(name: str, pattern: str) -> bool:
    if _GLOB_CHARS & set(pattern):
        return fnmatch.fnmatch(name, pattern)
    return pattern.lower() in name.lower()


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


class SearchFilesTool:
    """Searches file contents by regex, or file names by glob/substring.

    Args:
        use_rg: True/False forces ripgrep on/off; None uses it when `rg` is on PATH and
            the environment variable `HERALD_NO_RG` is not set.
    """

    name = "search_files"
    toolset = "file"
    read_only = True
    schema = function_schema(
        "search_files",
        "Search the working directory. target \"content\" (default): lines matching the regex "
        "`pattern`, as `path:line:text`. target \"files\": file paths whose name matches `pattern` "
        "(a glob like \"*.py\", or a plain substring). Hidden and ignored files are skipped.",
        {
            "pattern": {"type": "string", "description": "Regex (content) or name glob/substring (files)."},
            "target": {"type": "string", "enum": ["content", "files"], "description": "What to search (default content)."},
            "path": {"type": "string", "description": "Directory or file to search (default: working directory)."},
            "glob": {"type": "string", "description": "Only search files whose name matches this glob, e.g. \"*.py\"."},
            "limit": {"type": "integer", "description": f"Most results (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."},
        },
        ["pattern"],
    )

    def __init__(self, use_rg: bool | None = None) -> None:
        self.use_rg = use_rg

    def _rg(self) -> str | None:
        if self.use_rg is False:
            return None
        if self.use_rg is None and os.environ.get(NO_RG_ENV):
            return None
        return shutil.which("rg")

    def preview(self, args: Mapping[str, Any]) -> str:
        """The pattern and where it is searched."""
        where = args.get("path") or "."
        kind = "files " if args.get("target") == "files" else ""
        return one_line(f"{kind}{args.get('pattern', '')} in {where}")

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Return up to `limit` results, saying when more were found."""
        pattern: str = args["pattern"]
        target = args.get("target", "content")
        glob = args.get("glob")
        limit = min(max(args.get("limit", DEFAULT_LIMIT), 1), MAX_LIMIT)
        root = resolve(args.get("path") or ".", ctx.cwd)
        if not root.exists():
            return ToolResult(f"Error: path not found: {display(root, ctx.cwd)}", ok=False)
        if target == "content":
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                return ToolResult(f"Error: invalid regex {pattern!r}: {exc}. Escape special characters like ( [ . * with a backslash.", ok=False)

        rg = self._rg()
        if target == "files":
            found = self._files_rg(rg, root, pattern, glob, ctx) if rg else self._files_py(root, pattern, glob, ctx)
        elif rg:
            found = self._content_rg(rg, root, pattern, glob, ctx)
        else:
            found = self._content_py(root, regex, glob, ctx)
        if isinstance(found, ToolResult):
            return found

        # The Python walk is lazy: stop at limit + 1 instead of scanning the whole tree.
        results = found if isinstance(found, list) else list(itertools.islice(found, limit + 1))
        if not results:
            return ToolResult(f"No {'files' if target == 'files' else 'matches'} found for {pattern!r} (searched {display(root, ctx.cwd)}).")
        lines = results[:limit]
        if len(results) > limit:
            more = f"{len(results) - limit} more results" if isinstance(found, list) else "More results"
            lines.append(f"[{more} not shown; narrow the pattern, path or glob]")
        return ToolResult("\n".join(lines))

    # --- ripgrep ---------------------------------------------------------

    def _run_rg(self, argv: list[str], ctx: ToolContext) -> list[str] | ToolResult:
        proc = subprocess.run(argv, cwd=ctx.cwd, capture_output=True, timeout=RG_TIMEOUT, stdin=subprocess.DEVNULL)
        if proc.returncode not in (0, 1):  # 1 means "nothing found"
            message = proc.stderr.decode("utf-8", errors="replace").strip()
            return ToolResult(f"Error: search failed: {message}", ok=False)
        return proc.stdout.decode("utf-8", errors="replace").splitlines()

    def _content_rg(self, rg: str, root: Path, pattern: str, glob: str | None, ctx: ToolContext) -> list[str] | ToolResult:
        argv = [rg, "--line-number", "--no-heading", "--with-filename", "--color", "never", "--max-columns", str(MAX_LINE_CHARS), "--max-columns-preview", "--sort", "path"]
        if glob:
            argv += ["--glob", glob]
        out = self._run_rg(argv + ["-e", pattern, "--", str(root)], ctx)
        if isinstance(out, ToolResult):
            return out
        return [self._relative(line, ctx) for line in out]

    def _files_rg(self, rg: str, root: Path, pattern: str, glob: str | None, ctx: ToolContext) -> list[str] | ToolResult:
        argv = [rg, "--files", "--color", "never", "--sort", "path"]
        if glob:
            argv += ["--glob", glob]
        out = self._run_rg(argv + ["--", str(root)], ctx)
        if isinstance(out, ToolResult):
            return out
        return [display(Path(p), ctx.cwd) for p in out if _name_matches(Path(p).name, pattern)]

    @staticmethod
    def _relative(line: str, ctx: ToolContext) -> str:
        path, sep, rest = line.partition(":")
        return display(Path(path), ctx.cwd) + sep + rest if sep else line

    # --- pure Python -----------------------------------------------------

    def _files_py(self, root: Path, pattern: str, glob: str | None, ctx: ToolContext) -> Iterator[str]:
        for path in _walk(root):
            if ctx.is_interrupted():
                return
            if (glob is None or fnmatch.fnmatch(path.name, glob)) and _name_matches(path.name, pattern):
                yield display(path, ctx.cwd)

    def _content_py(self, root: Path, regex: re.Pattern[str], glob: str | None, ctx: ToolContext) -> Iterator[str]:
        for path in _walk(root):
            if ctx.is_interrupted():
                return
            if glob is not None and not fnmatch.fnmatch(path.name, glob):
                continue
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue  # unreadable files are skipped, as rg does
            if looks_binary(data[:8192]):
                continue
            shown = display(path, ctx.cwd)
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if regex.search(line):
                    if len(line) > MAX_LINE_CHARS:
                        line = line[:MAX_LINE_CHARS] + " [...]"
                    yield f"{shown}:{number}:{line}"
