"""Resolving the paths a model gives against the working directory."""

from __future__ import annotations

from pathlib import Path

from herald.tools.base import ToolContext, ToolResult


def resolve(raw: str, cwd: Path) -> Path:
    """`raw` as an absolute path: `~` expanded, relative to `cwd`, `..` and symlinks resolved."""
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = cwd / path
    return path.resolve()


def display(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when it is inside it (shorter for the model), else absolute."""
    try:
        return str(path.relative_to(cwd.resolve())) or "."
    except ValueError:
        return str(path)


def write_refusal(path: Path, ctx: ToolContext) -> ToolResult | None:
    """None if the write to `path` may go ahead, else the refusal to return to the model."""
    verdict = ctx.approval.check_write(path, ctx.cwd, is_interrupted=ctx.is_interrupted)
    return None if verdict.allowed else ToolResult(verdict.message, ok=False)
