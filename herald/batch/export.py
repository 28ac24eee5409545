"""`herald batch export`: the completed conversations of an output, one per id, for training.

Formats:
    openai    {"messages": [...]}: OpenAI chat messages (tool calls and tool results kept,
              Herald's own keys such as `reasoning` dropped), as fine-tuning files take them.
    sharegpt  {"id": ..., "conversations": [{"from": "system"|"human"|"gpt"|"tool", "value": ...}]}.
              An assistant's tool calls follow its text as `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`
              blocks (the Hermes function-calling convention); a tool's result is its `tool` turn.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from herald.agent.messages import for_api
from herald.batch.samples import id_key
from herald.errors import BatchFileError

FORMATS = ("openai", "sharegpt")
SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt", "tool": "tool"}


@dataclass(frozen=True)
class ExportResult:
    exported: int
    """Conversations written."""
    without_completion: int
    """Ids in the output with no completed row (left out)."""
    torn_last_line: bool
    """The output ended in a torn line (a run was killed mid-write); it was skipped."""


def export(source: Path, target: Path, fmt: str) -> ExportResult:
    """Write the first completed row of every id in `source` to `target` in `fmt`.

    `target` is replaced atomically: it is either the old file or the whole new one.

    Raises:
        BatchFileError: `source` is missing or has a line that is not a row.
        ValueError: unknown format.
    """
    convert = _CONVERTERS.get(fmt)
    if convert is None:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    stats = _ReadStats()
    count = _write_atomically(target, (convert(row) for row in _completed_rows(source, stats)))
    return ExportResult(count, len(stats.failed - stats.completed), stats.torn)


@dataclass
class _ReadStats:
    completed: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    torn: bool = False


def _completed_rows(source: Path, stats: _ReadStats) -> Iterator[dict[str, Any]]:
    """The first completed row of each id, in file order (a torn last line is skipped)."""
    try:
        handle = source.open("rb")
    except OSError as error:
        raise BatchFileError(str(source), [f"cannot read: {error.strerror or error}"]) from None
    bad: int | None = None
    with handle:
        for number, raw in enumerate(handle, 1):
            if bad is not None:
                raise BatchFileError(str(source), [f"line {bad} is not a batch row: not a file herald batch wrote?"])
            row = _row(raw)
            if row is None:
                bad = number
                continue
            key = id_key(row["id"])
            if row.get("status") != "completed":
                stats.failed.add(key)
            elif key not in stats.completed:
                stats.completed.add(key)
                yield row
    stats.torn = bad is not None


def _row(raw: bytes) -> dict[str, Any] | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        row = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("messages"), list):
        return None
    return row


def to_openai(row: dict[str, Any]) -> dict[str, Any]:
    """One row as `{"messages": [...]}`."""
    return {"messages": for_api(row["messages"])}


def to_sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    """One row as `{"id": ..., "conversations": [...]}`."""
    turns = []
    for message in row["messages"]:
        role = SHAREGPT_ROLES.get(str(message.get("role")))
        if role is None:
            continue
        parts = [_text(message.get("content"))]
        for call in message.get("tool_calls") or []:
            parts.append(_tool_call_block(call))
        turns.append({"from": role, "value": "\n".join(part for part in parts if part)})
    return {"id": row["id"], "conversations": turns}


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _tool_call_block(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        arguments = raw  # the model's invalid JSON, kept as it was
    body = json.dumps({"name": function.get("name"), "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


_CONVERTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"openai": to_openai, "sharegpt": to_sharegpt}


def _write_atomically(target: Path, records: Iterator[dict[str, Any]]) -> int:
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    return count

