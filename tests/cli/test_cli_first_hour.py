"""The real `herald` program in pipes: the cut marker, a context overflow that never sticks,
one error prefix for every error line."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply

from .proc import herald_env, run_pipe

KEY = "sk-test-secret-key-0123456789abcdef"
PREFIX = "herald: error: "


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model")


def error_lines(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode().splitlines() if line.strip()]


def test_an_answer_cut_by_the_cap_is_marked_and_ends_with_a_newline(fake: FakeProvider, env: dict[str, str]) -> None:
    # The first answer and its three continuations are all cut by the cap.
    fake.enqueue(*[Reply(text=f"part {i} and then", finish_reason="length") for i in range(4)])
    done = run_pipe("--max-tokens", "5", "-q", "tell me everything", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(b"then\n")
    assert error_lines(done.stderr) == ["(cut at 5 tokens: --max-tokens to raise)"]


def test_an_answer_that_ends_by_itself_has_no_marker(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="Done."))
    done = run_pipe("--max-tokens", "5", "-q", "hi", env=env)
    assert done.stdout == b"Done.\n" and done.stderr == b""


def test_a_huge_question_fails_in_one_line_and_is_not_stored(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.context_window = 2000
    fake.default = Reply(text="Four.")
    huge = "lorem ipsum dolor sit amet " * 8000  # about 216 KB
    done = run_pipe(env=env, stdin=huge)
    (line,) = error_lines(done.stderr)
    assert done.returncode == 2
    assert line.startswith(PREFIX + "the current turn is too long for the model's context")
    assert line.endswith("— shorten the input") and "/new" not in line  # /new is a chat command
    assert run_pipe("sessions", "list", env=env).stdout.count(b"lorem") == 0  # no one-message session
    done = run_pipe("-c", "-q", "What is 2+2?", env=env)
    assert done.returncode == 0 and done.stdout == b"Four.\n", done.stderr
    assert "no session to continue; starting a new one" in done.stderr.decode()
    done = run_pipe("-c", "-q", "And 3+3?", env=env)
    assert done.returncode == 0 and done.stdout == b"Four.\n", done.stderr
    assert "lorem" not in str(fake.requests[-1].body) and "What is 2+2?" in str(fake.requests[-1].body)


def test_a_huge_question_with_a_known_window_is_refused_before_sending(fake: FakeProvider, env: dict[str, str]) -> None:
    done = run_pipe("--max-context-tokens", "4096", env=env, stdin="word " * 40_000)
    (line,) = error_lines(done.stderr)
    assert done.returncode == 2
    assert re.match(re.escape(PREFIX) + r"the message is too long for the model's context: about 5\d,\d{3} tokens, and 3,584 fit", line)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus"], "No such option '--bogus'. (see: herald --help)"),
        (["--max-tokens", "zero"], "Invalid value for '--max-tokens': 'zero' is not a valid integer range."),
        (["sessions", "frobnicate"], "No such command 'frobnicate'. (see: herald sessions --help)"),
        (["--resume", "nope", "-q", "x"], "no session"),
    ],
)
def test_every_error_line_has_one_prefix(env: dict[str, str], args: list[str], expected: str) -> None:
    done = run_pipe(*args, env=env)
    (line,) = error_lines(done.stderr)
    assert done.returncode == 2
    assert line.startswith(PREFIX) and expected in line
    assert "Usage:" not in done.stderr.decode() and "Error:" not in line


def test_config_errors_and_turn_errors_share_the_prefix(fake: FakeProvider, env: dict[str, str]) -> None:
    path = Path(env["HERALD_HOME"]) / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("max_tokens = true\n")
    (line,) = error_lines(run_pipe("config", env=env).stderr)
    assert line.startswith(PREFIX) and "max_tokens must be a whole number" in line
    path.unlink()
    fake.default = Reply(fault="http_error", status=400, error_message="Invalid value for 'temperature'")
    (line,) = error_lines(run_pipe("-q", "hi", env=env).stderr)
    assert line.startswith(PREFIX + "127.0.0.1:") and "400" in line


def timed(*args: str, env: dict[str, str]) -> tuple[float, bytes]:
    started = time.monotonic()
    done = run_pipe(*args, env=env)
    return time.monotonic() - started, done.stderr


def test_nothing_listening_on_loopback_is_reported_at_once(fake: FakeProvider, env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake.default = Reply(text="ok")
    baseline, _ = timed("-q", "hello", env=env)  # the same program answering at once: start-up is most of it
    elapsed, stderr = timed("-q", "hello", "--base-url", f"http://127.0.0.1:{port}/v1", env=env)
    (line,) = error_lines(stderr)
    assert line.startswith(PREFIX) and "Connection refused" in line and "is the server running?" in line
    # Retried with backoff, it took 7 s more than that (1 + 2 + 4 s of waiting).
    assert elapsed < baseline + 3.0
