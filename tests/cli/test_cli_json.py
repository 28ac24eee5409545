"""`herald --json`: JSON Lines events against every fault of the fake provider, on every wire.

Each run checks the contract: every stdout line is one JSON event with `type` and `"v": 1`;
a turn is `turn.started` … `turn.completed`; a consumer that drops text on `stream.reset`
(and on `tool.started`) ends with exactly `final_response`; the API key appears nowhere.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import pexpect
import pytest

from fakeprovider import FAULTS, FakeProvider, Reply, ToolCallSpec
from herald.cli.app import cli
from herald.cli.json_events import OUTPUT_CAP

from .proc import herald_env, run_pipe, spawn

KEY = "sk-json-secret-key-0123456789abcdef"
MODES = ["chat_completions", "codex_responses", "anthropic_messages"]
ANSWER = "First paragraph of the answer.\n\nSecond paragraph, which is longer than the first one.\n\nThe end."
EVENT_TYPES = {
    "turn.started", "text.delta", "reasoning.delta", "stream.reset",
    "tool.started", "tool.finished", "turn.completed", "error", "attempt.failed",
}
# Faults that make even the plain request fail: the turn fails, exit 1.
FAILING = {"http_error", "echo_key"}


def parse(stdout: str) -> list[dict[str, Any]]:
    """Every line one JSON object with a known type and the schema version."""
    events = []
    for line in stdout.splitlines():
        event = json.loads(line)
        assert isinstance(event, dict) and event["type"] in EVENT_TYPES, line
        assert event["v"] == 1, line
        events.append(event)
    return events


def consumed_text(events: list[dict[str, Any]]) -> str:
    """What a consumer that clears on stream.reset and tool.started is left with."""
    parts: list[str] = []
    for event in events:
        if event["type"] == "text.delta":
            parts.append(event["text"])
        elif event["type"] in ("stream.reset", "tool.started"):
            parts.clear()
    return "".join(parts)


def check_turn(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert events[0]["type"] == "turn.started"
    completed = events[-1]
    assert completed["type"] == "turn.completed"
    assert [e["type"] for e in events].count("turn.completed") == 1
    assert set(completed) >= {"status", "final_response", "usage", "session_id", "fallback_reason", "answered_by"}
    if completed["status"] == "completed":
        assert consumed_text(events) == completed["final_response"]
    return completed


@pytest.fixture
def provider_env(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch):
    def use(mode: str) -> None:
        base = fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url
        for name, value in {
            "HERALD_BASE_URL": base, "HERALD_API_KEY": KEY, "HERALD_MODEL": "fake-model",
            "HERALD_API_MODE": mode, "HERALD_STREAM_FIRST_BYTE_TIMEOUT": "0.5", "HERALD_STREAM_IDLE_TIMEOUT": "0.5",
        }.items():
            monkeypatch.setenv(name, value)

    return use


def script(fake: FakeProvider, fault: str) -> None:
    """The faulty reply first; every later request (the fallback) gets the clean one, or
    the same fault when it breaks plain requests too."""
    clean = Reply(text=ANSWER, reasoning="Some thinking first.", chunk_chars=5, usage=(21, 13))
    if fault == "none":
        fake.enqueue(clean)
        return
    faulty = Reply(
        text=ANSWER, reasoning="Some thinking first.", fault=fault, fault_after=4, chunk_chars=5,
        status=500, retry_after=0, stall_seconds=3, usage=(21, 13),
    )
    fake.enqueue(faulty)
    fake.default = faulty if fault in FAILING else clean


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", sorted(FAULTS | {"none"}))
def test_every_fault_gives_a_consistent_event_stream(fake, provider_env, capsys, mode, fault) -> None:
    provider_env(mode)
    script(fake, fault)
    code = cli(["--json", "-q", "answer me"])
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    assert "Traceback" not in captured.err
    events = parse(captured.out)
    completed = check_turn(events)
    if fault in FAILING:
        assert code == 1
        assert completed["status"] == "failed" and completed["final_response"] is None
        error = events[-2]
        assert error["type"] == "error" and error["message"] and error["error_type"]
        return
    assert code == 0, captured
    assert completed["status"] == "completed"
    assert completed["final_response"] == ANSWER
    if fault in ("reject_stream_options", "crash_stream_options") and mode == "chat_completions":
        assert completed["usage"] is None  # streamed again without stream_options: no usage is sent
    else:
        assert completed["usage"]["output_tokens"] == 13
    assert completed["session_id"]
    answered = completed["answered_by"]  # null, or (with failover) who answered
    assert answered is None or answered["model"] == "fake-model"
    shown = any(e["type"] in ("text.delta", "reasoning.delta") for e in events[: _reset_index(events)])
    if "stream.reset" in [e["type"] for e in events]:
        assert shown, "a reset is only sent when something had been shown"
        assert completed["fallback_reason"]


def _reset_index(events: list[dict[str, Any]]) -> int:
    types = [e["type"] for e in events]
    return types.index("stream.reset") if "stream.reset" in types else len(events)


def test_a_cut_stream_resets_and_the_consumer_keeps_the_whole_answer(fake, provider_env, capsys) -> None:
    provider_env("chat_completions")
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=6, chunk_chars=5, repeat=2))
    assert cli(["--json", "-q", "hi"]) == 0
    events = parse(capsys.readouterr().out)
    types = [e["type"] for e in events]
    reset = types.index("stream.reset")
    assert "text.delta" in types[:reset]
    assert "".join(e["text"] for e in events[:reset] if e["type"] == "text.delta") != ANSWER
    after = [e["text"] for e in events[reset:] if e["type"] == "text.delta"]
    assert after == [ANSWER]  # the complete answer, once
    assert events[-1]["fallback_reason"] and "IncompleteStream" in events[-1]["fallback_reason"]


def test_tool_events_carry_arguments_and_a_capped_output(fake, provider_env, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.txt").write_text(("x" * 60 + "\n") * (OUTPUT_CAP // 20))
    provider_env("chat_completions")
    fake.enqueue(
        Reply(text="Let me read it.", tool_calls=[ToolCallSpec("read_file", json.dumps({"path": "big.txt"}))]),
        Reply(tool_calls=[ToolCallSpec("read_file", '{"path": "missing.txt"')]),  # invalid JSON arguments
        Reply(text="It is all x.", usage=(50, 4)),
    )
    assert cli(["--json", "-q", "read big.txt"]) == 0
    events = parse(capsys.readouterr().out)
    started = [e for e in events if e["type"] == "tool.started"]
    finished = [e for e in events if e["type"] == "tool.finished"]
    assert [e["name"] for e in started] == ["read_file", "read_file"]
    assert started[0]["arguments"] == {"path": "big.txt"}
    assert started[1]["arguments"] == '{"path": "missing.txt"'  # kept as the model sent it
    assert finished[0]["ok"] is True and finished[0]["truncated"] is True
    assert len(finished[0]["output"]) == OUTPUT_CAP and isinstance(finished[0]["duration_s"], float)
    assert finished[1]["ok"] is False and finished[1]["truncated"] is False
    completed = check_turn(events)
    assert completed["final_response"] == "It is all x."
    assert completed["usage"]["output_tokens"] == 5 + 5 + 4


def test_no_stream_gives_the_answer_as_one_delta(fake, provider_env, capsys) -> None:
    provider_env("chat_completions")
    fake.enqueue(Reply(text=ANSWER))
    assert cli(["--json", "--no-stream", "-q", "hi"]) == 0
    events = parse(capsys.readouterr().out)
    assert [e["type"] for e in events] == ["turn.started", "text.delta", "turn.completed"]
    assert check_turn(events)["final_response"] == ANSWER


# -- the real program in a pipe ---------------------------------------------------------


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model")


def test_piped_question_gives_only_json_on_stdout(fake, env) -> None:
    fake.enqueue(Reply(text=ANSWER, usage=(30, 12), cached_tokens=8))
    done = run_pipe("--json", env=env, stdin="what is piped?\n")
    assert done.returncode == 0, done.stderr
    events = parse(done.stdout.decode())
    completed = check_turn(events)
    assert completed["usage"] == {"input_tokens": 30, "output_tokens": 12, "cached_input_tokens": 8, "cache_write_input_tokens": None, "reasoning_tokens": None}
    assert done.stderr == b""
    assert fake.requests[0].body["messages"][-1]["content"] == "what is piped?"


def test_exit_codes_are_as_without_json(fake, env) -> None:
    fake.default = Reply(fault="echo_key")
    failed = run_pipe("--json", "-q", "hi", env=env)
    assert failed.returncode == 1
    assert KEY not in (failed.stdout + failed.stderr).decode()
    assert [e["type"] for e in parse(failed.stdout.decode())][-2:] == ["error", "turn.completed"]
    usage = run_pipe("--json", "--toolsets", "nonsense", "-q", "hi", env=env)
    assert usage.returncode == 2
    (error,) = parse(usage.stdout.decode())
    assert error["type"] == "error" and "nonsense" in error["message"]


def test_sigint_ends_the_stream_with_an_interrupted_turn(fake, env) -> None:
    fake.enqueue(Reply(text="partial " * 300, delay=0.05, chunk_chars=8))
    process = subprocess.Popen(
        [sys.executable, "-m", "herald", "--json", "-q", "hello"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # turn.started
    second = process.stdout.readline()  # the answer is streaming
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=10)
    assert process.returncode == 130
    events = parse((first + second + rest).decode())
    completed = check_turn(events)
    assert completed["status"] == "interrupted"
    assert completed["final_response"].startswith("partial")
    assert b"Traceback" not in err


def test_json_needs_a_question(env) -> None:
    child = spawn("--json", env=env)  # a terminal on stdin: this would be a chat
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "--json needs a question" in (child.before or "")
