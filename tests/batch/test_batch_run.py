"""`herald batch` end to end against the loopback fake provider (real HTTP, real agents)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.cli.app import cli

from .conftest import KEY, RoutedProvider, child_env, prompts, provider_args, read_rows, write_input


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """Run `herald batch ARGS --json` in this process: (exit code, summary, stderr)."""
    capsys.readouterr()
    code = cli(["batch", *args, "--json"])
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    return code, summary, err


def completed(rows: list[dict[str, Any]]) -> list[Any]:
    return sorted(r["id"] for r in rows if r["status"] == "completed")


def test_a_batch_writes_one_row_per_sample_with_the_whole_schema(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.api_key = KEY
    routed.default = Reply(text="the answer", usage=(7, 3))
    rows_in = prompts(20)
    rows_in[4] = {"id": 4, "messages": [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"},
                                        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "more?"}]}
    source = write_input(tmp_path / "in.jsonl", rows_in)
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--concurrency", "5")
    assert code == 0, err
    assert summary is not None and summary["completed"] == 20 and summary["failed"] == 0 and summary["exit_code"] == 0
    assert summary["usage"] == {"prompt_tokens": 140, "completion_tokens": 60, "total_tokens": 200}
    rows = read_rows(out)
    assert len(rows) == 20
    first = next(r for r in rows if r["id"] == "s0")
    assert list(first) == [
        "id", "attempt", "status", "final_response", "messages", "usage", "api_calls", "fallbacks",
        "error", "error_type", "model", "duration_s", "worker", "metadata",
        "limit", "finish_reason", "attempts",  # issue 23, additions
    ]
    assert first["attempt"] == 1 and first["status"] == "completed" and first["final_response"] == "the answer"
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]  # no system text of Herald's own
    assert first["messages"][0]["content"] == "question 0" and first["metadata"] == {"n": 0}
    assert first["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert first["api_calls"] == 1 and first["fallbacks"] == 0 and first["error"] is None
    assert first["model"] == "test/model" and first["duration_s"] >= 0 and ":" in first["worker"]
    history = next(r for r in rows if r["id"] == 4)["messages"]
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user", "assistant"]
    assert history[0] == {"role": "system", "content": "be terse"} and history[3]["content"] == "more?"
    assert KEY not in out.read_text()
    assert "done: 20 of 20 completed, 0 failed" in err


@pytest.mark.parametrize("tools", [[], ["--toolsets", "file"]], ids=["no-tools", "own-directories"])
def test_samples_share_one_connection_pool(routed: RoutedProvider, tmp_path: Path, capsys, tools: list[str]) -> None:
    source = write_input(tmp_path / "in.jsonl", prompts(40))
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--concurrency", "4", *tools)
    assert code == 0 and summary is not None and summary["completed"] == 40, err
    assert len(routed.requests) == 40
    assert routed.connections_used() <= 8  # one shared pool; a client per sample would open 40


def test_resume_never_requests_a_completed_id_again(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    source = write_input(tmp_path / "in.jsonl", prompts(12))
    out = tmp_path / "out.jsonl"
    assert run(capsys, str(source), "-o", str(out), *provider_args(routed))[0] == 0
    routed.requests.clear()
    code, summary, _ = run(capsys, str(source), "-o", str(out), *provider_args(routed))
    assert code == 0 and summary is not None and summary["earlier_completed"] == 12 and summary["attempts"] == 0
    assert routed.prompts_requested() == {}
    assert len(read_rows(out)) == 12


def test_repeated_prompts_are_separate_samples(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    source = write_input(tmp_path / "in.jsonl", [{"id": n, "prompt": "same words"} for n in range(5)])
    out = tmp_path / "out.jsonl"
    assert run(capsys, str(source), "-o", str(out), *provider_args(routed))[0] == 0
    assert completed(read_rows(out)) == [0, 1, 2, 3, 4]
    assert routed.prompts_requested()["same words"] == 5


def test_failing_samples_are_retried_to_the_limit_then_counted_failed(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.route("question 2", Reply(fault="http_error", status=400, error_message="bad request for this one"))
    routed.route("question 5", Reply(fault="http_error", status=400), Reply(fault="http_error", status=400), Reply(text="third time"))
    source = write_input(tmp_path / "in.jsonl", prompts(8))
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), *provider_args(routed), "--max-attempts", "3", "--no-stream"]
    code, summary, err = run(capsys, *args)
    assert code == 1, err
    assert summary is not None and summary["failed"] == 1 and summary["completed"] == 7 and summary["retried"] == 4
    rows = read_rows(out)
    bad = [r for r in rows if r["id"] == "s2"]
    assert [(r["attempt"], r["status"]) for r in bad] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert bad[0]["error_type"] == "ProviderError" and "bad request for this one" in bad[0]["error"]
    assert bad[0]["messages"][-1] == {"role": "user", "content": "question 2"}
    flaky = [(r["attempt"], r["status"]) for r in rows if r["id"] == "s5"]
    assert flaky == [(1, "failed"), (2, "failed"), (3, "completed")]
    # Resuming changes nothing: s2 used its attempts, the rest completed.
    routed.requests.clear()
    code, summary, _ = run(capsys, *args)
    assert code == 1 and summary is not None and summary["attempts"] == 0 and summary["earlier_failed"] == 1
    assert routed.prompts_requested() == {}
    # Allowing more attempts gives s2 attempt 4, never a number it already used.
    routed.route("question 2", Reply(text="finally"))
    code, summary, _ = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--max-attempts", "4")
    assert code == 0 and summary is not None and summary["completed"] == 8
    assert [(r["attempt"], r["status"]) for r in read_rows(out) if r["id"] == "s2"][-1] == (4, "completed")


def test_429_backs_the_concurrency_off_and_it_recovers(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    limited = Reply(fault="http_error", status=429, retry_after=0.05)
    routed.rule = lambda number, body: limited if number < 10 else None
    source = write_input(tmp_path / "in.jsonl", prompts(60))
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--concurrency", "8", "--no-stream")
    assert code == 0, err
    assert summary is not None and summary["completed"] == 60
    assert summary["rate_limited"] == 10
    assert summary["concurrency_lowest"] < 8 and summary["concurrency_end"] == 8
    assert "rate limited: 10 answers were 429" in err
    assert sum(r["attempt"] for r in read_rows(out)) == 60  # waited out in place, not failed and retried


def test_a_rate_limited_primary_fails_over_to_the_configured_fallback(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    backup_key = "sk-test-backup-0123456789abcdef"
    config = Path(os.environ["HERALD_HOME"]) / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f'[[fallback]]\nmodel = "backup/model"\nbase_url = "{routed.base_url}"\napi_key = "{backup_key}"\n'
    )
    limited = Reply(fault="http_error", status=429, retry_after=30)  # waiting it out would take minutes
    routed.rule = lambda number, body: limited if body.get("model") == "test/model" else None
    routed.default = Reply(text="from the backup", usage=(4, 2))
    source = write_input(tmp_path / "in.jsonl", prompts(4))
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--no-stream")
    assert code == 0, err
    assert summary is not None and summary["completed"] == 4 and summary["rate_limited"] >= 4 and summary["duration_s"] < 20
    rows = read_rows(out)
    assert {r["model"] for r in rows} == {"backup/model"} and {r["final_response"] for r in rows} == {"from the backup"}
    assert all(r["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6} for r in rows)
    assert backup_key not in out.read_text() and KEY not in out.read_text()


def test_a_cut_stream_falls_back_and_is_counted(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.route("question 1", Reply(text="whole answer", fault="cut", fault_after=1, repeat=2))
    source = write_input(tmp_path / "in.jsonl", prompts(3))
    out = tmp_path / "out.jsonl"
    assert run(capsys, str(source), "-o", str(out), *provider_args(routed))[0] == 0
    row = next(r for r in read_rows(out) if r["id"] == "s1")
    assert row["fallbacks"] == 1 and row["final_response"] == "whole answer" and row["status"] == "completed"


def test_a_hung_sample_fails_at_its_time_limit_without_stopping_the_others(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.route("question 0", Reply(fault="stall_first_byte", stall_seconds=8))
    source = write_input(tmp_path / "in.jsonl", prompts(4))
    out = tmp_path / "out.jsonl"
    code, summary, _ = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--time-limit", "1", "--max-attempts", "1")
    assert code == 1 and summary is not None and summary["completed"] == 3 and summary["failed"] == 1
    hung = next(r for r in read_rows(out) if r["id"] == "s0")
    assert hung["error_type"] == "TimeoutError" and "time limit of 1 s" in hung["error"]
    assert hung["api_calls"] == 1  # the call the time limit cut short
    assert 0.9 < hung["duration_s"] < 5
    assert hung["messages"][-1]["content"] == "question 0"  # the partial conversation is kept


def test_tools_work_in_a_directory_of_their_own_and_danger_is_refused(routed: RoutedProvider, tmp_path: Path, capsys, monkeypatch) -> None:
    caller = tmp_path / "caller"
    caller.mkdir()
    monkeypatch.chdir(caller)
    write = ToolCallSpec("write_file", json.dumps({"path": "note.txt", "content": "hi"}))
    danger = ToolCallSpec("terminal", json.dumps({"command": "rm -rf ./stuff"}))
    routed.route("question 0", Reply(tool_calls=[write]), Reply(text="wrote it"))
    routed.route("question 1", Reply(tool_calls=[danger]), Reply(text="could not"))
    source = write_input(tmp_path / "in.jsonl", prompts(2))
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--toolsets", "file,terminal")
    assert code == 0, err
    rows = {r["id"]: r for r in read_rows(out)}
    assert list(caller.iterdir()) == []  # never the caller's cwd
    notes = list((tmp_path / "out.work").glob("s0-*/attempt-1/note.txt"))
    assert len(notes) == 1 and notes[0].read_text() == "hi"
    roles = [m["role"] for m in rows["s0"]["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert rows["s0"]["messages"][2]["tool_calls"][0]["function"]["name"] == "write_file"
    refused = rows["s1"]["messages"][3]
    assert refused["role"] == "tool" and refused["content"].startswith("refused:")
    # The only system text the run needed: where its tools work.
    assert rows["s0"]["messages"][0] == {"role": "system", "content": f"Working directory: {notes[0].parent}"}


def test_a_row_holds_the_samples_own_system_text_or_none(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    """What was sent is what the row says: the sample's system text exactly, or no system message."""
    routed.default = Reply(text="Rome.")
    rows_in = [
        {"id": "plain", "prompt": "Capital of Italy?"},
        {"id": "own", "system": "Answer in one word.", "prompt": "Capital of Italy?!"},
        {"id": "msgs", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Italy?"}]},
    ]
    source = write_input(tmp_path / "in.jsonl", rows_in)
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, str(source), "-o", str(out), *provider_args(routed))
    assert code == 0, err
    rows = {r["id"]: r for r in read_rows(out)}
    plain = rows["plain"]["messages"]
    assert [m["role"] for m in plain] == ["user", "assistant"] and plain[0] == {"role": "user", "content": "Capital of Italy?"}
    assert rows["own"]["messages"][0] == {"role": "system", "content": "Answer in one word."}
    assert rows["msgs"]["messages"][0] == {"role": "system", "content": "Be brief."}
    sent = {json.dumps(r.body["messages"][-1]["content"]): r.body["messages"] for r in routed.requests}
    assert [m["role"] for m in sent['"Capital of Italy?"']] == ["user"]
    assert sent['"Capital of Italy?!"'][0] == {"role": "system", "content": "Answer in one word."}
    text = out.read_text()
    assert "You are Herald" not in text and "Working directory" not in text and "Today's date" not in text
    assert not (tmp_path / "out.work").exists()  # no tools: no directory made, none named


def test_yolo_runs_dangerous_commands_inside_the_sample_directory(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    danger = ToolCallSpec("terminal", json.dumps({"command": "mkdir stuff && rm -rf ./stuff && echo gone"}))
    routed.route("question 0", Reply(tool_calls=[danger]), Reply(text="done"))
    source = write_input(tmp_path / "in.jsonl", prompts(1))
    out = tmp_path / "out.jsonl"
    assert run(capsys, str(source), "-o", str(out), *provider_args(routed), "--toolsets", "terminal", "--yolo")[0] == 0
    tool = read_rows(out)[0]["messages"][3]
    assert "gone" in tool["content"] and "[exit code: 0]" in tool["content"]


def test_bad_input_runs_nothing_and_touches_no_output(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "y"}\n{"id": "a", "prompt": "z"}\n')
    out = tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed))
    assert code == 2 and summary is None
    assert f"herald: error: {source}: duplicate id 'a' on line 3 (first on line 1)" in err
    assert "Traceback" not in err and not out.exists() and routed.requests == []
    existing = tmp_path / "existing.jsonl"
    existing.write_bytes(b'{"id": "a", "attempt": 1, "status": "completed"}\n{"id": "x", "att')
    before = existing.read_bytes()
    assert run(capsys, str(source), "-o", str(existing), *provider_args(routed))[0] == 2
    assert existing.read_bytes() == before  # not even the torn line is repaired


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--toolsets", "memory"], "unknown or unavailable in batch: memory"),
        (["--concurrency", "0"], "Invalid value for '--concurrency'"),
        (["-o", "IN"], "-o must not be the input file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(routed: RoutedProvider, tmp_path: Path, capsys, args: list[str], message: str) -> None:
    source = write_input(tmp_path / "in.jsonl", prompts(1))
    args = [str(source) if a == "IN" else a for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.jsonl")]
    capsys.readouterr()
    code = cli(["batch", str(source), *args, *provider_args(routed)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_a_torn_last_line_is_repaired_and_that_attempt_runs_again(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    source = write_input(tmp_path / "in.jsonl", prompts(3))
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "s0", "attempt": 1, "status": "completed"}) + "\n" + '{"id": "s1", "attempt": 1, "status": "compl')
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed))
    assert code == 0 and summary is not None and summary["repaired_bytes"] > 0 and "repaired: cut a torn last line" in err
    rows = read_rows(out)  # every line parses
    assert [(r["id"], r["attempt"]) for r in rows][0] == ("s0", 1)
    assert sorted((r["id"], r["attempt"]) for r in rows[1:]) == [("s1", 1), ("s2", 1)]
    assert routed.prompts_requested() == {"question 1": 1, "question 2": 1}


def test_keys_echoed_by_the_provider_never_reach_the_output(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    routed.route("question 0", Reply(fault="echo_key"))
    source = write_input(tmp_path / "in.jsonl", prompts(2))
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--max-attempts", "1")
    assert code == 1
    assert KEY not in out.read_text() and KEY not in err
    assert next(r for r in read_rows(out) if r["id"] == "s0")["error_type"] == "AuthenticationError"


def test_ray_without_ray_installed_says_how_to_install_it(routed: RoutedProvider, tmp_path: Path, capsys, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    source = write_input(tmp_path / "in.jsonl", prompts(1))
    out = tmp_path / "out.jsonl"
    capsys.readouterr()
    code = cli(["batch", str(source), "-o", str(out), *provider_args(routed), "--ray", "auto"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'herald[ray]'" in err and not out.exists()


FULL_DISK = """
import errno, os, sys
def full_disk(fd):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
os.fsync = full_disk  # this process's disk is full
from herald.cli.app import cli
sys.exit(cli(sys.argv[1:]))
"""


def test_an_output_that_cannot_be_written_stops_the_run_with_one_line(routed: RoutedProvider, tmp_path: Path) -> None:
    # In a child process: the attempts it stops leave the sync agent's abandoned request
    # threads behind, which a CLI process simply exits past.
    source = write_input(tmp_path / "in.jsonl", prompts(30))
    args = ["batch", str(source), "-o", str(tmp_path / "out.jsonl"), *provider_args(routed), "--concurrency", "2"]
    done = subprocess.run([sys.executable, "-c", FULL_DISK, *args], cwd=tmp_path, env=child_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert len(routed.requests) < 30  # it stopped, rather than running every sample for nothing


def _cut_routes(routed: RoutedProvider, n: int, text: str) -> None:
    # Each sample's stream is cut after a few chunks; the next request gets the same answer, so a
    # continuation (given the prefix) serves the rest and a restart all of it.
    for i in range(n):
        routed.route(f"question {i}", Reply(text, fault="cut", fault_after=4), Reply(text))


@pytest.mark.parametrize("where", ["config", "flag", "main flag"])
def test_the_continuation_setting_reaches_every_samples_agent(routed: RoutedProvider, tmp_path: Path, capsys, where: str) -> None:
    from herald.paths import config_dir

    text = "A cut answer in a batch goes on from the text it had, nothing paid for twice."
    routed.api_key = KEY
    _cut_routes(routed, 2, text)
    source, out = write_input(tmp_path / "in.jsonl", prompts(2)), tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), *provider_args(routed)]
    if where == "config":
        (config_dir() / "config.toml").write_text('continuation = "prefill"\n')
        code, summary, err = run(capsys, *args)
    elif where == "flag":
        code, summary, err = run(capsys, *args, "--continuation", "prefill")
    else:
        capsys.readouterr()
        code = cli(["--continuation", "prefill", "batch", *args, "--json"])
        err = capsys.readouterr().err
    assert code == 0, err
    rows = read_rows(out)
    assert {r["final_response"] for r in rows} == {text} and len(rows) == 2
    assert all([a["mode"] for a in r["attempts"]] == ["stream", "continue"] for r in rows)
    continued = [r for r in routed.requests if r.method == "POST" and r.body["messages"][-1]["role"] == "assistant"]
    assert len(continued) == 2 and all(r.body["messages"][-1]["prefix"] is True for r in continued)


def test_batch_continuation_off_restarts(routed: RoutedProvider, tmp_path: Path, capsys) -> None:
    from herald.paths import config_dir

    text = "A cut answer in a batch goes on from the text it had, nothing paid for twice."
    routed.api_key = KEY
    _cut_routes(routed, 1, text)
    (config_dir() / "config.toml").write_text('continuation = "prefill"\n')
    source, out = write_input(tmp_path / "in.jsonl", prompts(1)), tmp_path / "out.jsonl"
    code, summary, err = run(capsys, str(source), "-o", str(out), *provider_args(routed), "--continuation", "off")
    assert code == 0, err
    (row,) = read_rows(out)
    assert row["final_response"] == text and [a["mode"] for a in row["attempts"]] == ["stream", "plain"]
