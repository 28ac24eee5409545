"""The batch output: append-only JSONL, one row per finished attempt.

A row counts as done only once it is written whole, flushed and fsynced. A process killed
mid-write can leave a torn last line (no newline, or garbage); `read_output` finds it and
`repair` cuts it off, so the next run appends to a clean file. Any other line that is not a
row is refused: the file was not written by `herald batch`, or was edited.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from herald.batch.samples import id_key
from herald.errors import BatchFileError
from herald.llm.redact import redact

STATUSES = ("completed", "failed", "limited")
MAX_SHOWN = 10


@dataclass(frozen=True)
class Attempt:
    """What resume needs to know of one output row."""

    key: str
    """The sample's id, as `samples.id_key` writes it."""
    attempt: int
    status: str
    line: int


@dataclass
class ExistingOutput:
    """An output file as found on start.

    Attributes:
        attempts: every row's (id, attempt, status), in file order.
        good_bytes: the length of the file up to the end of its last whole row.
        torn_bytes: how many bytes after that belong to a torn last line (0: none).
    """

    attempts: list[Attempt] = field(default_factory=list)
    good_bytes: int = 0
    torn_bytes: int = 0


def read_output(path: Path) -> ExistingOutput:
    """The rows already in `path` (nothing when it does not exist). Reads only; changes nothing.

    Raises:
        BatchFileError: a line other than the last is not a row, or an (id, attempt) repeats.
    """
    found = ExistingOutput()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return found
    except OSError as error:
        raise BatchFileError(str(path), [f"cannot read: {error.strerror or error}"]) from None
    problems: list[str] = []
    total = 0
    seen: dict[tuple[str, int], int] = {}
    offset = 0
    pending: int | None = None  # a bad line's number: torn if it turns out to be the last
    with handle:
        for number, raw in enumerate(handle, 1):
            if pending is not None:
                total += 1
                if len(problems) < MAX_SHOWN:
                    problems.append(_bad_line_message(pending))
                pending = None
            attempt = _parse_row(raw, number) if raw.endswith(b"\n") else None
            if attempt is None:
                pending = number
            else:
                where = seen.setdefault((attempt.key, attempt.attempt), number)
                if where != number:
                    total += 1
                    if len(problems) < MAX_SHOWN:
                        problems.append(
                            f"attempt {attempt.attempt} of id {attempt.key} is on line {where} and again on line {number}"
                        )
                found.attempts.append(attempt)
                found.good_bytes = offset + len(raw)
            offset += len(raw)
    if problems:
        raise BatchFileError(str(path), problems, total)
    found.torn_bytes = offset - found.good_bytes
    return found


def repair(path: Path, existing: ExistingOutput) -> None:
    """Cut off the torn last line `read_output` found, durably."""
    if existing.torn_bytes == 0:
        return
    with path.open("r+b") as handle:
        handle.truncate(existing.good_bytes)
        handle.flush()
        os.fsync(handle.fileno())


def _parse_row(raw: bytes, number: int) -> Attempt | None:
    try:
        row = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(row, dict):
        return None
    sample_id, attempt, status = row.get("id"), row.get("attempt"), row.get("status")
    if isinstance(sample_id, bool) or not isinstance(sample_id, (str, int)):
        return None
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1 or status not in STATUSES:
        return None
    return Attempt(id_key(sample_id), attempt, status, number)


def _bad_line_message(number: int) -> str:
    return (
        f"line {number} is not a batch row (an object with id, attempt and status): "
        "not a file herald batch wrote? Move it aside, or fix the line"
    )


class OutputWriter:
    """Appends rows to the output, each batch of rows written whole and fsynced before returning.

    Args:
        path: the output file; created (with its directory entry made durable) if missing.
        secrets: strings that must never reach the file (the API key); they are masked.
    """

    def __init__(self, path: Path, secrets: Iterable[str | None] = ()) -> None:
        self.path = path
        self._secrets = tuple(s for s in secrets if s)
        created = not path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if created:
            _fsync_directory(path.parent)

    def encode(self, row: dict[str, Any]) -> bytes:
        """One row as one line of JSON, keys masked."""
        text = json.dumps(row, ensure_ascii=False, default=str)
        return (redact(text, self._secrets) + "\n").encode("utf-8")

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Write `rows` and fsync: when this returns, they survive a crash or a kill."""
        data = b"".join(self.encode(row) for row in rows)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every platform opens directories; the file itself is still fsynced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
