"""The real `herald` program with stdout a pipe: plain bytes, exit codes, one-line errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply

from .proc import herald_env, run_pipe

KEY = "sk-test-secret-key-0123456789abcdef"


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model")


def _one_error_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    assert KEY not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_pipe_output_is_the_answer_byte_for_byte(fake: FakeProvider, env: dict[str, str]) -> None:
    answer = "Plain **markdown** stays as typed.\n\n- one\n- two\n\n`code` and émoji ✓"
    fake.enqueue(Reply(text=answer, reasoning="private thoughts", delay=0.001))
    done = run_pipe("-q", "hello", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (answer + "\n").encode()
    assert b"\x1b" not in done.stdout + done.stderr
    assert b"private thoughts" not in done.stdout + done.stderr  # reasoning only with --show-reasoning
    assert fake.requests[0].stream is True


def test_show_reasoning_goes_to_stderr_only(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="The answer.", reasoning="Step by step."))
    done = run_pipe("-q", "hello", "--show-reasoning", env=env)
    assert done.returncode == 0
    assert done.stdout == b"The answer.\n"
    assert b"Step by step." in done.stderr
    assert b"\x1b" not in done.stderr


def test_question_from_piped_stdin_and_from_dash(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = Reply(text="ok")
    assert run_pipe(env=env, stdin="what is piped?\n").stdout == b"ok\n"
    assert run_pipe("-q", "-", env=env, stdin="dash question").stdout == b"ok\n"
    questions = [r.body["messages"][-1]["content"] for r in fake.requests]
    assert questions == ["what is piped?", "dash question"]


def test_no_stream_makes_a_plain_request(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="Whole answer."))
    done = run_pipe("--no-stream", "-q", "hello", env=env)
    assert done.returncode == 0
    assert done.stdout == b"Whole answer.\n"
    assert [r.stream for r in fake.requests] == [False]


def test_stream_cut_in_a_pipe_ends_with_the_complete_answer(fake: FakeProvider, env: dict[str, str]) -> None:
    text = "First part of the answer. " * 6 + "Final words."
    fake.enqueue(Reply(text=text, fault="cut", fault_after=10, repeat=2))
    done = run_pipe("-q", "hello", env=env)
    assert done.returncode == 0
    # A pipe cannot take back bytes: the abandoned prefix, a newline, then the whole answer.
    assert done.stdout.endswith((text + "\n").encode())
    assert done.stdout.count(b"Final words.") == 1
    assert "stream interrupted" in done.stderr.decode()


def test_missing_key(env: dict[str, str]) -> None:
    del env["HERALD_API_KEY"]
    env["HERALD_BASE_URL"] = "https://llm.example.com/v1"
    done = run_pipe("-q", "hello", env=env)
    line = _one_error_line(done.stderr)
    assert done.returncode == 2
    assert "no API key for llm.example.com" in line
    assert done.stdout == b""


def test_empty_stdin_is_a_usage_error(env: dict[str, str]) -> None:
    done = run_pipe(env=env, stdin="")
    assert done.returncode == 2
    assert "no question" in done.stderr.decode()


def test_wrong_key_401(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.api_key = "the-right-key"
    done = run_pipe("-q", "hello", env=env)
    line = _one_error_line(done.stderr)
    assert done.returncode == 1
    assert "401" in line and "check HERALD_API_KEY" in line


def test_unknown_model_404(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.known_models = {"real-model"}
    done = run_pipe("-q", "hello", "--model", "no-such-model", env=env)
    line = _one_error_line(done.stderr)
    assert done.returncode == 1
    assert "404" in line and "no-such-model" in line and "check --model" in line


def test_unreachable_host(env: dict[str, str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = run_pipe("-q", "hello", "--base-url", f"http://127.0.0.1:{port}/v1", env=env)
    line = _one_error_line(done.stderr)
    assert done.returncode == 1
    assert "unreachable" in line and "is the server running?" in line


def test_provider_failing_both_ways(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = Reply(fault="http_error", status=500, error_message="upstream exploded", retry_after=0)
    done = run_pipe("-q", "hello", env=env)
    line = _one_error_line(done.stderr)
    assert done.returncode == 1
    assert "500" in line and "upstream exploded" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("model = \n", "not valid TOML"),
        ('modle = "x"\n', "unknown key 'modle'"),
        ("stream = \"no\"\n", "stream must be true or false"),
    ],
)
def test_bad_config_file(env: dict[str, str], content: str, expected: str) -> None:
    path = Path(env["HERALD_HOME"]) / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    for args in (["-q", "hello"], ["config"]):
        done = run_pipe(*args, env=env)
        line = _one_error_line(done.stderr)
        assert done.returncode == 2
        assert str(path) in line and expected in line


def test_debug_shows_the_traceback(env: dict[str, str]) -> None:
    path = Path(env["HERALD_HOME"]) / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("yolo = 3\n")
    done = run_pipe("--debug", "config", env=env)
    assert done.returncode == 2
    assert "Traceback" in done.stderr.decode()


def test_version() -> None:
    done = run_pipe("--version")
    assert done.returncode == 0
    assert done.stdout.startswith(b"herald ")


def test_sigint_in_a_pipe_keeps_the_partial_answer_and_exits_130(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="partial " * 300, delay=0.05, chunk_chars=8))  # about 15 s
    process = subprocess.Popen(
        [sys.executable, "-m", "herald", "-q", "hello"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert process.stdout is not None
    first = process.stdout.read(16)  # the answer is streaming
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=10)
    out = first + rest
    assert process.returncode == 130
    assert out.startswith(b"partial partial") and out.endswith(b"\n")
    assert len(out) < len("partial " * 300)
    assert b"[interrupted]" in err and b"Traceback" not in err
