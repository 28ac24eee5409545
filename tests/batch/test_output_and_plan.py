"""The output file (torn-line repair, durable appends, masked keys) and resume planning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from herald.batch.output import Attempt, OutputWriter, read_output, repair
from herald.batch.plan import ResumePlan
from herald.errors import BatchFileError


def row(sample_id: object, attempt: int, status: str = "completed") -> str:
    return json.dumps({"id": sample_id, "attempt": attempt, "status": status}) + "\n"


@pytest.mark.parametrize("tail", [b'{"id": "c", "attem', b'{"id": "c", "attempt": 1, "status": "completed"}', b"\x00\x00\x00\n"])
def test_a_torn_last_line_is_found_and_cut_off(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "out.jsonl"
    good = (row("a", 1) + row("b", 1, "failed")).encode()
    path.write_bytes(good + tail)
    found = read_output(path)
    assert [(a.key, a.attempt, a.status) for a in found.attempts] == [('"a"', 1, "completed"), ('"b"', 1, "failed")]
    assert found.good_bytes == len(good) and found.torn_bytes == len(tail)
    assert path.read_bytes() == good + tail  # reading changes nothing
    repair(path, found)
    assert path.read_bytes() == good
    assert read_output(path).torn_bytes == 0


def test_a_bad_line_before_the_last_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(row("a", 1) + "hello\n" + row("b", 1))
    with pytest.raises(BatchFileError) as caught:
        read_output(path)
    assert caught.value.problems[0].startswith("line 2 is not a batch row")


def test_an_attempt_written_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(row("a", 1, "failed") + row("a", 1, "completed"))
    with pytest.raises(BatchFileError, match="attempt 1 of id \"a\" is on line 1 and again on line 2"):
        read_output(path)


def test_no_output_yet_is_an_empty_start(tmp_path: Path) -> None:
    found = read_output(tmp_path / "missing.jsonl")
    assert found.attempts == [] and found.torn_bytes == 0
    assert not (tmp_path / "missing.jsonl").exists()


def test_writer_appends_whole_lines_and_masks_the_key(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    key = "sk-secret-key-0123456789abcdef"
    writer = OutputWriter(path, secrets=(key,))
    try:
        writer.append([{"id": "a", "attempt": 1, "status": "failed", "error": f"echoed {key}"}])
        writer.append([{"id": "b", "attempt": 1, "status": "completed", "x": "é"}, {"id": "c", "attempt": 1, "status": "completed"}])
    finally:
        writer.close()
    text = path.read_text(encoding="utf-8")
    assert key not in text and "sk-…cdef" in text
    assert [json.loads(line)["id"] for line in text.splitlines()] == ["a", "b", "c"]
    assert text.endswith("\n") and "é" in text


def test_resume_plan_by_id_and_attempt() -> None:
    found = [
        ("\"done\"", 1, "completed"),
        ("\"flaky\"", 1, "failed"),
        ("\"flaky\"", 2, "completed"),
        ("\"bad\"", 1, "failed"),
        ("\"bad\"", 2, "failed"),
        ("\"retry\"", 1, "failed"),
    ]
    plan = ResumePlan([Attempt(k, a, s, i) for i, (k, a, s) in enumerate(found, 1)], max_attempts=2)
    assert plan.next_attempt('"done"') is None
    assert plan.next_attempt('"flaky"') is None  # completed on its second attempt
    assert plan.next_attempt('"bad"') is None  # two failures: ended failed
    assert plan.next_attempt('"retry"') == 2
    assert plan.next_attempt('"new"') == 1
    plan.record('"retry"', 2, "failed")
    assert plan.next_attempt('"retry"') is None
    assert plan.state('"bad"').failures == 2 and '"new"' not in plan.keys()


def test_more_attempts_allowed_later_resume_after_the_last_number() -> None:
    plan = ResumePlan([Attempt('"x"', 1, "failed", 1), Attempt('"x"', 2, "failed", 2)], max_attempts=5)
    assert plan.next_attempt('"x"') == 3  # numbers only grow: (id, attempt) is never written twice
