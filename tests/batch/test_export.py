"""`herald batch export`: completed rows, one per id, as OpenAI messages or ShareGPT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from herald.batch.export import to_sharegpt
from herald.cli.app import cli

from .conftest import read_rows

TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.txt"}'}}
CONVERSATION = [
    {"role": "system", "content": "You are Herald."},
    {"role": "user", "content": "what is in a.txt?"},
    {"role": "assistant", "content": "Let me look.", "tool_calls": [TOOL_CALL], "reasoning": "think"},
    {"role": "tool", "tool_call_id": "call_1", "name": "read_file", "content": "hello"},
    {"role": "assistant", "content": "It says hello."},
]


def output_rows() -> list[dict[str, Any]]:
    return [
        {"id": "a", "attempt": 1, "status": "failed", "messages": CONVERSATION[:2], "error": "boom"},
        {"id": "a", "attempt": 2, "status": "completed", "messages": CONVERSATION},
        {"id": 2, "attempt": 1, "status": "completed", "messages": CONVERSATION[:2] + [{"role": "assistant", "content": "hi"}]},
        {"id": "never", "attempt": 1, "status": "failed", "messages": CONVERSATION[:2]},
    ]


def write_output(path: Path, rows: list[dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)
    return path


def export(capsys: pytest.CaptureFixture[str], source: Path, fmt: str, target: Path) -> tuple[int, str]:
    capsys.readouterr()
    code = cli(["batch", "export", str(source), "--format", fmt, "-o", str(target)])
    return code, capsys.readouterr().err


def test_openai_format_keeps_tool_calls_and_results_and_drops_herald_keys(tmp_path: Path, capsys) -> None:
    source = write_output(tmp_path / "out.jsonl", output_rows())
    code, err = export(capsys, source, "openai", tmp_path / "train.jsonl")
    assert code == 0, err
    records = read_rows(tmp_path / "train.jsonl")
    assert len(records) == 2 and all(list(r) == ["messages"] for r in records)
    messages = records[0]["messages"]
    assert messages[2] == {"role": "assistant", "content": "Let me look.", "tool_calls": [TOOL_CALL]}
    assert messages[3] == {"role": "tool", "content": "hello", "tool_call_id": "call_1", "name": "read_file"}
    assert records[1]["messages"][-1] == {"role": "assistant", "content": "hi"}
    assert "exported 2 conversations" in err and "left out 1 ids that have no completed row" in err


def test_sharegpt_format_names_every_turn(tmp_path: Path, capsys) -> None:
    source = write_output(tmp_path / "out.jsonl", output_rows())
    assert export(capsys, source, "sharegpt", tmp_path / "sg.jsonl")[0] == 0
    records = read_rows(tmp_path / "sg.jsonl")
    assert [r["id"] for r in records] == ["a", 2]
    turns = records[0]["conversations"]
    assert [t["from"] for t in turns] == ["system", "human", "gpt", "tool", "gpt"]
    assert turns[1]["value"] == "what is in a.txt?" and turns[3]["value"] == "hello"
    call = turns[2]["value"].split("<tool_call>\n", 1)
    assert call[0] == "Let me look.\n"
    assert json.loads(call[1].removesuffix("\n</tool_call>")) == {"name": "read_file", "arguments": {"path": "a.txt"}}


def test_content_lists_export_their_text() -> None:
    row = {"id": "x", "messages": [{"role": "user", "content": [{"type": "text", "text": "multi"}, {"type": "image_url"}]}]}
    assert to_sharegpt(row)["conversations"] == [{"from": "human", "value": "multi"}]


def test_a_torn_last_line_is_skipped_but_a_bad_middle_line_is_refused(tmp_path: Path, capsys) -> None:
    source = write_output(tmp_path / "out.jsonl", output_rows(), tail='{"id": "z", "attem')
    code, err = export(capsys, source, "openai", tmp_path / "train.jsonl")
    assert code == 0 and "skipped a torn last line" in err
    assert source.read_text().endswith('"attem')  # export never changes the output
    broken = tmp_path / "broken.jsonl"
    broken.write_text("garbage\n" + json.dumps(output_rows()[1]) + "\n")
    target = tmp_path / "nope.jsonl"
    code, err = export(capsys, broken, "openai", target)
    assert code == 2 and "line 1 is not a batch row" in err and not target.exists()
    assert list(tmp_path.glob(".nope.jsonl.*")) == []  # the temporary file is gone too


def test_export_refuses_to_overwrite_its_source(tmp_path: Path, capsys) -> None:
    source = write_output(tmp_path / "out.jsonl", output_rows())
    code, err = export(capsys, source, "openai", source)
    assert code == 2 and "must not be the batch output itself" in err
