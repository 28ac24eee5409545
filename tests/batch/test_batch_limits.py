"""`herald batch` limits and answer length (issue 23): rows say "limited" and "length"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.cli.app import cli

from .conftest import KEY, RoutedProvider, prompts, provider_args, read_rows, write_input


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    capsys.readouterr()
    code = cli(["batch", *args, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1]) if out.strip() else None, err


def test_max_turns_makes_limited_rows_that_are_never_run_again(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.api_key = KEY
    routed.default = Reply(text="Looking.", tool_calls=[ToolCallSpec("read_file", '{"path": "x"}')])
    source = write_input(tmp_path / "in.jsonl", prompts(3))
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), *provider_args(routed), "--toolsets", "file", "--max-turns", "2"]
    code, summary, err = run(capsys, *args)
    assert code == 3, err
    assert summary is not None and summary["run_limited"] == 3 and summary["failed"] == 0
    rows = read_rows(out)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"limited"}
    assert {r["limit"] for r in rows} == {"turns"} and {r["final_response"] for r in rows} == {"Looking."}
    assert all(r["api_calls"] == 2 for r in rows)
    requests = len(routed.requests)
    code, summary, err = run(capsys, *args)  # resuming: a limited sample is finished
    assert len(routed.requests) == requests and len(read_rows(out)) == 3


def test_batch_max_tokens_is_sent_and_a_cut_answer_is_not_continued(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.api_key = KEY
    routed.default = Reply(text="cut sho", finish_reason="length")
    source = write_input(tmp_path / "in.jsonl", prompts(2))
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--max-tokens", "7")
    assert code == 0, err
    rows = read_rows(out)
    assert {r["status"] for r in rows} == {"completed"} and {r["finish_reason"] for r in rows} == {"length"}
    assert len(routed.requests) == 2  # one per sample: no continuation
    assert {r.body["max_tokens"] for r in routed.requests} == {7}


def test_max_time_ends_a_slow_sample_as_limited(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.api_key = KEY
    routed.default = Reply(text="slowly " * 100, chunk_chars=3, delay=0.1)
    source = write_input(tmp_path / "in.jsonl", prompts(1))
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--max-time", "1")
    assert code == 3, err
    (row,) = read_rows(out)
    assert row["status"] == "limited" and row["limit"] == "time" and row["final_response"].startswith("slow")
    assert row["duration_s"] < 10  # not the ~23 s answer


def test_a_row_lists_its_attempts_a_failed_one_first(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.api_key = KEY
    routed.route("question 0", Reply(fault="http_error", status=503, retry_after=0), Reply(text="fine"))
    source = write_input(tmp_path / "in.jsonl", prompts(1))
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed))
    assert code == 0, err
    (row,) = read_rows(out)
    first, last = row["attempts"][0], row["attempts"][-1]
    assert first["outcome"] != "ok" and first["status"] == 503 and first["next"] == "retry"
    assert last["outcome"] == "ok" and last["next"] is None
    assert KEY not in json.dumps(row)
