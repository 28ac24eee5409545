"""Project context files: `AGENTS.md` and `.herald.md`, read into the system prompt.

For each kind, the nearest file wins, looking from the working directory up to the
repository root (the nearest ancestor holding `.git`, a directory or a worktree's file).
Outside a repository only the working directory itself is searched: walking up to `/`
would pull in files from unrelated parents (a home directory, a shared mount) that the
user never meant as instructions for this project.

Files are untrusted input (they come with whatever repository was cloned), so:
* a file whose real path lies outside the searched tree (a symlink to `~/.ssh/id_rsa`,
  say) is ignored rather than sent to the model provider;
* each file is capped at `max_chars` characters, with a note saying it was cut.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("herald.context")

# Each group is one kind of file; within a group the first name found in a directory wins.
CONTEXT_FILE_NAMES: tuple[tuple[str, ...], ...] = (("AGENTS.md", "agents.md"), (".herald.md",))
DEFAULT_MAX_CHARS = 20_000


@dataclass(frozen=True)
class ContextFile:
    """One context file as it goes into the prompt.

    Attributes:
        path: the file's absolute path.
        text: its content, cut to the size limit when `truncated`.
        truncated: True when the file was longer than the limit.
        size_bytes: the file's full size on disk.
    """

    path: Path
    text: str
    truncated: bool
    size_bytes: int


@dataclass(frozen=True)
class ContextBundle:
    """The context files found for a working directory, nearest `AGENTS.md` first."""

    files: tuple[ContextFile, ...]

    def render(self) -> str:
        """Markdown for the system prompt: a heading naming each file's path, then its text."""
        parts = [
            "# Project context",
            "The following files from the project describe its conventions and instructions. "
            "Follow them unless the user asks otherwise.",
        ]
        for f in self.files:
            body = f.text.rstrip()
            if f.truncated:
                body += (
                    f"\n\n[Truncated: only the first {len(f.text)} characters of this "
                    f"{f.size_bytes}-byte file are shown. Read {f.path} for the rest.]"
                )
            parts.append(f"## {f.path}\n\n{body}")
        return "\n\n".join(parts)

    @property
    def text(self) -> str:
        """Same as `render()`."""
        return self.render()


def find_repo_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that contains `.git`, or None."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def search_dirs(cwd: Path) -> list[Path]:
    """Directories searched for context files, nearest first (see the module docstring)."""
    cwd = cwd.resolve()
    root = find_repo_root(cwd)
    if root is None:
        return [cwd]
    # root is cwd or one of its parents: take cwd's ancestry up to and including it.
    return [d for d in (cwd, *cwd.parents) if d.is_relative_to(root)]


def load_context_files(cwd: Path, *, max_chars: int = DEFAULT_MAX_CHARS) -> ContextBundle | None:
    """The project's context files for `cwd`, each capped at `max_chars`; None when there are none."""
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    cwd = Path(cwd)
    if not cwd.is_dir():
        return None
    dirs = search_dirs(cwd)
    boundary = dirs[-1]
    found: list[ContextFile] = []
    for names in CONTEXT_FILE_NAMES:
        context_file = _nearest(dirs, names, boundary, max_chars)
        if context_file is not None:
            found.append(context_file)
    return ContextBundle(tuple(found)) if found else None


def _nearest(dirs: list[Path], names: tuple[str, ...], boundary: Path, max_chars: int) -> ContextFile | None:
    for directory in dirs:
        for name in names:
            path = directory / name
            if not path.is_file():
                continue
            loaded = _read(path, boundary, max_chars)
            if loaded is not None:
                return loaded
    return None


def _read(path: Path, boundary: Path, max_chars: int) -> ContextFile | None:
    real = path.resolve()
    if not real.is_relative_to(boundary):
        log.warning("ignoring %s: it points outside %s (to %s)", path, boundary, real)
        return None
    try:
        size = real.stat().st_size
        with real.open(encoding="utf-8", errors="replace") as fh:
            text = fh.read(max_chars + 1)
    except OSError as exc:
        log.warning("cannot read context file %s: %s", path, exc)
        return None
    if not text.strip():
        return None
    truncated = len(text) > max_chars
    if truncated:
        text = _cut(text, max_chars)
    return ContextFile(path=path, text=text, truncated=truncated, size_bytes=size)


def _cut(text: str, max_chars: int) -> str:
    """At most `max_chars` of `text`, ending at a line break when one is reasonably near."""
    head = text[:max_chars]
    newline = head.rfind("\n")
    # Prefer a clean line end, but not at the price of dropping more than a fifth of the budget.
    return head[: newline + 1] if newline >= max_chars * 0.8 else head
