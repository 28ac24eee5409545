"""Limits and answer length on the real `herald` program (issue 23, items 1 and 2).

`-q` and `--json` in pipes, a chat turn on a real pty: a limit ends the run with exit 3 and
the best answer so far; a cut answer is not continued headless, and says "length".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec

from .proc import finish, herald_env, run_pipe, screen, spawn

KEY = "sk-test-limits-cli-0123456789abcdef"
LOOP = Reply(text="Looking.", tool_calls=[ToolCallSpec("read_file", '{"path": "missing.txt"}')])


@pytest.fixture
def env(fake: FakeProvider, tmp_path) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model", HERALD_HOME=str(tmp_path / "home"))


def events(stdout: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


def test_max_turns_exits_3_with_the_answer_so_far(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = LOOP
    done = run_pipe("--max-turns", "2", "--toolsets", "file", "-q", "find it", env=env)
    assert done.returncode == 3, done.stderr
    assert len(fake.requests) == 2
    assert b"Looking." in done.stdout
    assert "max_turns" in done.stderr.decode() and b"Traceback" not in done.stderr


def test_json_max_time_says_limited_time_with_the_partial_answer(fake: FakeProvider, env: dict[str, str]) -> None:
    text = "A slow answer that takes its time. " * 20
    fake.enqueue(Reply(text=text, chunk_chars=3, delay=0.1))  # ~23 s
    done = run_pipe("--json", "--max-time", "1.5", "-q", "take your time", env=env, timeout=20)
    assert done.returncode == 3, done.stderr
    completed = events(done.stdout)[-1]
    assert completed["type"] == "turn.completed" and completed["status"] == "limited" and completed["limit"] == "time"
    assert completed["final_response"] and text.startswith(completed["final_response"])
    assert KEY not in done.stdout.decode() + done.stderr.decode()


def test_json_max_output_tokens_says_limited_tokens(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = Reply(text="Looking.", tool_calls=[ToolCallSpec("read_file", '{"path": "x"}')], usage=(10, 30))
    done = run_pipe("--json", "--max-output-tokens", "50", "--toolsets", "file", "-q", "go", env=env)
    assert done.returncode == 3, done.stderr
    completed = events(done.stdout)[-1]
    assert completed["status"] == "limited" and completed["limit"] == "tokens" and completed["final_response"] == "Looking."
    assert len(fake.requests) == 2


def test_a_cut_answer_is_not_continued_headless_and_says_length(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = Reply(text="cut short", finish_reason="length")
    done = run_pipe("--json", "--max-tokens", "3", "-q", "tell me everything", env=env)
    assert done.returncode == 0, done.stderr
    assert len(fake.requests) == 1  # no continuation unless max_continuations says so
    assert fake.requests[0].body["max_tokens"] == 3
    completed = events(done.stdout)[-1]
    assert completed["status"] == "completed" and completed["finish_reason"] == "length"
    assert completed["final_response"] == "cut short"


def test_max_continuations_from_the_config_file_is_honoured_headless(fake: FakeProvider, env: dict[str, str], tmp_path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    fake.enqueue(Reply(text="one ", finish_reason="length"), Reply(text="two"))
    config = run_pipe("config", env=env).stdout.decode()
    assert "max_continuations" in config and "chat: 3; -q, --json, batch: 0" in config
    path = next(line for line in config.splitlines() if line.startswith("config file:")).split(": ", 1)[1].split(" (")[0]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("max_continuations = 1\n")
    done = run_pipe("-q", "go on", env=env)
    assert done.returncode == 0 and done.stdout == b"one two\n" and len(fake.requests) == 2


def test_bad_limits_are_one_line_usage_errors(env: dict[str, str]) -> None:
    for args in (["--max-time", "0"], ["--max-turns", "0"], ["--max-output-tokens", "-5"]):
        done = run_pipe(*args, "-q", "hi", env=env)
        lines = done.stderr.decode().strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("herald: error: "), done.stderr


def test_a_chat_turn_at_its_limit_says_so_and_the_chat_goes_on(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(LOOP, LOOP, Reply(text="Second turn's answer."))
    child = spawn("--max-turns", "2", "--toolsets", "file", env=env)
    child.expect("›")
    child.sendline("find it")
    child.expect("max_turns")
    child.expect("›")
    child.sendline("again")
    child.expect("Second turn's answer.")
    child.expect("›")
    child.sendcontrol("d")
    output = finish(child)
    assert child.exitstatus == 0, screen(output)


def test_on_a_terminal_a_cut_answer_has_its_note(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = Reply(text="A short start of a long", finish_reason="length")
    child = spawn("--max-tokens", "5", "-q", "tell me everything", env=env)
    output = finish(child)
    lines = screen(output)
    assert child.exitstatus == 0, lines
    assert any("A short start of a long" in line for line in lines)
    assert any("(cut at 5 tokens: --max-tokens to raise)" in line for line in lines), lines
    assert len(fake.requests) == 1


def test_on_a_terminal_a_limit_exits_3_with_the_answer_so_far(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = LOOP
    child = spawn("--max-turns", "1", "--toolsets", "file", "-q", "find it", env=env)
    output = finish(child)
    lines = screen(output)
    assert child.exitstatus == 3, lines
    assert any("Looking." in line for line in lines) and any("max_turns" in line for line in lines), lines
