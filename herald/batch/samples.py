"""Batch input: one sample per JSONL line, all of them checked before anything runs.

A row is `{"id": ..., "prompt": "..."}` or `{"id": ..., "messages": [...]}` (OpenAI format,
ending with the user's turn), with optional `system` (text) and `metadata` (any JSON, copied
to the output). Ids are strings or integers, unique in the file: resume is keyed by them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from herald.errors import BatchFileError

SampleId = str | int
FIELDS = ("id", "prompt", "messages", "system", "metadata")
ROLES = ("system", "user", "assistant", "tool")
MAX_SHOWN = 10  # problems listed in full; the rest are counted


class _Problem(ValueError):
    """One thing wrong with one row; the message ends with where it is."""


@dataclass(frozen=True)
class Sample:
    """One validated input row, ready to run.

    Attributes:
        id: the row's id, as written (a string or an integer).
        line: its line number in the input (1-based).
        user_message: the user's turn the agent answers.
        history: the conversation before it (OpenAI format, without system messages).
        system: the system text for this sample (the row's `system`, else its system
            messages), or None for the batch's default.
        metadata: the row's `metadata`, copied to every output row (None when absent).
    """

    id: SampleId
    line: int
    user_message: str
    history: tuple[dict[str, Any], ...] = ()
    system: str | None = None
    metadata: Any = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The id as resume knows it: `"7"` (a string) and `7` (a number) are different ids."""
        return id_key(self.id)


def id_key(value: SampleId) -> str:
    """A canonical text form of an id, so ids of any JSON type can key a dict."""
    return json.dumps(value, ensure_ascii=False)


def check_input(path: Path) -> list[str]:
    """Read and check every row of `path`; return the samples' id keys, in file order.

    Raises:
        BatchFileError: the file is missing, empty, or has bad rows (each problem names its line).
    """
    problems: list[str] = []
    total = 0
    first_line: dict[str, int] = {}
    for line, text in _lines(path):
        try:
            sample = parse_row(text, line)
        except _Problem as problem:
            total += 1
            if len(problems) < MAX_SHOWN:
                problems.append(str(problem))
            continue
        seen = first_line.setdefault(sample.key, line)
        if seen != line:
            total += 1
            if len(problems) < MAX_SHOWN:
                problems.append(f"duplicate id {sample.id!r} on line {line} (first on line {seen})")
            continue
    if problems:
        raise BatchFileError(str(path), problems, total)
    if not first_line:
        raise BatchFileError(str(path), ["no samples: the file has no rows"])
    return list(first_line)


def iter_samples(path: Path) -> Iterator[Sample]:
    """The samples of a file `check_input` accepted, read lazily in file order."""
    for line, text in _lines(path):
        yield parse_row(text, line)


def parse_row(text: str, line: int) -> Sample:
    """One input line as a `Sample`.

    Raises:
        _Problem: the row is not a valid sample; the message names the line.
    """
    try:
        row = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Problem(f"not JSON on line {line}: {error.msg} (column {error.colno})") from None
    if not isinstance(row, dict):
        raise _Problem(f"line {line} is a JSON {type(row).__name__}, not an object with an id")
    unknown = [name for name in row if name not in FIELDS]
    if unknown:
        raise _Problem(
            f"unknown field {unknown[0]!r} on line {line} (known: {', '.join(FIELDS)}; put extra data under metadata)"
        )
    sample_id = _sample_id(row, line)
    where = f"on line {line} (id {sample_id!r})"
    system = row.get("system")
    if system is not None and not isinstance(system, str):
        raise _Problem(f"system must be text {where}")
    has_prompt, has_messages = "prompt" in row, "messages" in row
    if has_prompt == has_messages:
        what = "both prompt and messages" if has_prompt else "neither prompt nor messages"
        raise _Problem(f"{what} {where}: give exactly one")
    if has_prompt:
        prompt = row["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Problem(f"prompt must be non-empty text {where}")
        return Sample(sample_id, line, prompt, (), system, row.get("metadata"))
    user_message, history, from_messages = _split_messages(row["messages"], where)
    if from_messages is not None and system is not None:
        raise _Problem(f"both a system field and a system message {where}: give one")
    return Sample(sample_id, line, user_message, history, system if system is not None else from_messages, row.get("metadata"))


def _sample_id(row: dict[str, Any], line: int) -> SampleId:
    if "id" not in row:
        raise _Problem(f"missing id on line {line}")
    value = row["id"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Problem(f"id must be a string or an integer on line {line}, not {json.dumps(value)}")
    if isinstance(value, str) and not value.strip():
        raise _Problem(f"empty id on line {line}")
    return value


def _split_messages(messages: Any, where: str) -> tuple[str, tuple[dict[str, Any], ...], str | None]:
    """(the final user turn, the history before it, the leading system text or None)."""
    if not isinstance(messages, list) or not messages:
        raise _Problem(f"messages must be a non-empty list {where}")
    systems: list[str] = []
    history: list[dict[str, Any]] = []
    for number, message in enumerate(messages, 1):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise _Problem(f"message {number} needs a role ({', '.join(ROLES)}) {where}")
        role = message["role"]
        if role == "system":
            if history:
                raise _Problem(f"message {number}: system messages must come first {where}")
            if not isinstance(message.get("content"), str):
                raise _Problem(f"message {number}: system content must be text {where}")
            systems.append(message["content"])
            continue
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise _Problem(f"message {number}: a tool message needs a tool_call_id {where}")
        history.append(dict(message))
    last = history.pop() if history else None
    if last is None or last["role"] != "user" or not isinstance(last.get("content"), str) or not last["content"].strip():
        raise _Problem(f"the last message must be the user's, with text content {where}")
    return last["content"], tuple(history), "\n\n".join(systems) if systems else None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise BatchFileError(str(path), [f"cannot read: {error.strerror or error}"]) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise BatchFileError(str(path), [f"line {number} is not UTF-8 text"]) from None
            if text.strip():
                yield number, text
