"""Persistent memory: the agent's own notes and what it knows about the user, across sessions.

Two Markdown files in `data_dir()/memory/` (or the directory given):

* `MEMORY.md` (target `"memory"`): the agent's notes — project facts, lessons, conventions.
* `USER.md` (target `"user"`): facts about the user — preferences, role, habits.

File format: entries separated by a line holding only `§`, for example

    Prefers pytest over unittest.
    §
    Works on Herald; the main branch is `main`.
    Runs tests with `-q`.

An entry may span several lines; it may not contain a `§` line of its own. The files are
plain text a user can edit by hand: blank entries are ignored, duplicates collapse, and
whitespace around entries is trimmed when the file is next written.

Each file is bounded (`max_chars_per_file`, counted on the file as written) so memory can
never crowd the system prompt; a write that would exceed the bound is refused with the
room left. Writes are atomic (temp file + `os.replace`): a crash leaves the old file or the
new one, never half of one. Key-shaped strings are masked before anything is saved.

Concurrency: writes within one process are serialised; two processes writing the same
file at the same instant can lose one of the two updates (last writer wins).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from herald.llm.redact import redact
from herald.paths import data_dir

TARGETS: dict[str, str] = {"memory": "MEMORY.md", "user": "USER.md"}
DELIMITER = "§"
_SEPARATOR = f"\n{DELIMITER}\n"
DEFAULT_MAX_CHARS_PER_FILE = 4000

_HEADINGS = {"memory": "Your notes", "user": "About the user"}


def parse_entries(text: str) -> list[str]:
    """The entries of a memory file's text: split on `§` lines, trimmed, blanks and duplicates dropped."""
    entries: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), DELIMITER]:
        if line.strip() == DELIMITER:
            entry = "\n".join(current).strip()
            if entry and entry not in entries:
                entries.append(entry)
            current = []
        else:
            current.append(line)
    return entries


def render_entries(entries: list[str]) -> str:
    """The file text for `entries` (empty string for none)."""
    return _SEPARATOR.join(entries) + "\n" if entries else ""


class MemoryStore:
    """Read and edit `MEMORY.md` and `USER.md`.

    Args:
        dir: where the files live; `data_dir()/memory` when None. Created on first write.
        max_chars_per_file: the most characters either file may hold.

    Editing methods return the target's entries after the change.
    """

    def __init__(self, dir: Path | None = None, *, max_chars_per_file: int = DEFAULT_MAX_CHARS_PER_FILE) -> None:
        if max_chars_per_file <= 0:
            raise ValueError(f"max_chars_per_file must be positive, got {max_chars_per_file}")
        self.dir = Path(dir) if dir is not None else data_dir() / "memory"
        self.max_chars_per_file = max_chars_per_file
        self._lock = threading.Lock()

    def path(self, target: str) -> Path:
        """The file behind `target` ("memory" or "user")."""
        return self.dir / _filename(target)

    def read(self, target: str) -> list[str]:
        """The target's entries, oldest first (empty when the file does not exist)."""
        try:
            text = self.path(target).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return parse_entries(text)

    def add(self, target: str, text: str) -> list[str]:
        """Append an entry. Adding an entry that is already there changes nothing.

        Raises:
            ValueError: unknown target, empty text, a `§` line in the text, or no room left.
        """
        entry = self._clean(text)
        with self._lock:
            entries = self.read(target)
            if entry in entries:
                return entries
            return self._save(target, [*entries, entry], adding=entry)

    def replace(self, target: str, old_substring: str, new_text: str) -> list[str]:
        """Replace the one entry containing `old_substring` with `new_text`.

        Raises:
            ValueError: unknown target, empty text or substring, no entry or several entries
                match, or the result would not fit.
        """
        entry = self._clean(new_text)
        with self._lock:
            entries = self.read(target)
            index = self._match(target, entries, old_substring)
            updated = [*entries[:index], entry, *entries[index + 1 :]]
            return self._save(target, parse_entries(render_entries(updated)), adding=None)

    def remove(self, target: str, substring: str) -> list[str]:
        """Delete the one entry containing `substring`.

        Raises:
            ValueError: unknown target, empty substring, or no entry / several entries match.
        """
        with self._lock:
            entries = self.read(target)
            index = self._match(target, entries, substring)
            return self._save(target, [*entries[:index], *entries[index + 1 :]], adding=None)

    def system_prompt_block(self) -> str:
        """Both files rendered for the system prompt; empty string when both are empty."""
        sections = []
        for target, filename in TARGETS.items():
            entries = self.read(target)
            if not entries:
                continue
            used = len(render_entries(entries))
            bullets = "\n".join("- " + e.replace("\n", "\n  ") for e in entries)
            sections.append(
                f"## {_HEADINGS[target]} ({filename}, {used}/{self.max_chars_per_file} characters)\n\n{bullets}"
            )
        if not sections:
            return ""
        intro = (
            "# Memory\n\nWhat you saved in earlier sessions. Treat it as background knowledge, "
            "not as the user's current request."
        )
        return "\n\n".join([intro, *sections])

    # ── internals ───────────────────────────────────────────────────────

    def _clean(self, text: str) -> str:
        entry = redact(text).strip()
        if not entry:
            raise ValueError("memory entry text is empty")
        if any(line.strip() == DELIMITER for line in entry.splitlines()):
            raise ValueError(f"memory entry text may not contain a line holding only {DELIMITER!r} (the entry separator)")
        return entry

    def _match(self, target: str, entries: list[str], substring: str) -> int:
        needle = substring.strip()
        if not needle:
            raise ValueError("the substring identifying the entry is empty")
        filename = _filename(target)
        exact = [i for i, e in enumerate(entries) if e == needle]
        if exact:
            return exact[0]  # entries are unique, so an exact match is never ambiguous
        hits = [i for i, e in enumerate(entries) if needle in e]
        if not hits:
            raise ValueError(f"no entry in {filename} contains {needle!r}")
        if len(hits) > 1:
            previews = "; ".join(repr(_preview(entries[i])) for i in hits)
            raise ValueError(f"{needle!r} matches {len(hits)} entries in {filename} ({previews}); use a longer substring")
        return hits[0]

    def _save(self, target: str, entries: list[str], *, adding: str | None) -> list[str]:
        text = render_entries(entries)
        if len(text) > self.max_chars_per_file:
            filename = _filename(target)
            current = len(render_entries(self.read(target)))
            room = max(0, self.max_chars_per_file - current)
            what = f"adding this {len(adding)}-character entry" if adding is not None else "this change"
            raise ValueError(
                f"{filename} holds {current} of its {self.max_chars_per_file} characters, so {room} are left; "
                f"{what} needs {len(text) - current}. Replace or remove entries to make room."
            )
        _atomic_write(self.path(target), text)
        return entries


def _filename(target: str) -> str:
    try:
        return TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown memory target {target!r}: use 'memory' or 'user'") from None


def _preview(entry: str, width: int = 40) -> str:
    flat = " ".join(entry.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old content or the new, never a mix."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # the data must be on disk before the rename makes it visible
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
