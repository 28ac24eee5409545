"""`herald -c --retry` and `/retry` (issue 23, item 4): a failed turn sent again, in the same
session, its user message stored once; no question needed, stdin closed or empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply
from herald.sessions import SessionStore

from .proc import finish, herald_env, run_pipe, screen, spawn

KEY = "sk-test-retry-0123456789abcdef"
DOWN = Reply(fault="http_error", status=400, repeat=20)  # not retried: fails at once


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(fake: FakeProvider, home: Path) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model", HERALD_HOME=str(home))


def stored(home: Path) -> list[dict]:
    import os

    previous = os.environ.get("HERALD_HOME")
    os.environ["HERALD_HOME"] = str(home)
    try:
        with SessionStore() as store:
            (session,) = store.list_sessions()
            return store.load_messages(session.id)
    finally:
        if previous is not None:
            os.environ["HERALD_HOME"] = previous


@pytest.mark.parametrize("stdin", [None, ""], ids=["stdin-closed", "stdin-empty"])
def test_retry_sends_the_failed_turn_again_in_the_same_session(fake: FakeProvider, env, home, stdin) -> None:
    fake.enqueue(DOWN)
    failed = run_pipe("-q", "What is the capital of France?", env=env)
    assert failed.returncode == 1
    fake.clear()
    fake.enqueue(Reply(text="Paris."))
    done = run_pipe("-c", "--retry", env=env, stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Paris.\n"
    sent = fake.requests[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["What is the capital of France?"]
    messages = stored(home)
    assert [m["role"] for m in messages] == ["user", "assistant"]  # the question stored once, then the answer
    assert messages[-1]["content"] == "Paris."


def test_retry_after_an_answer_is_a_one_line_error(fake: FakeProvider, env) -> None:
    fake.enqueue(Reply(text="Fine."))
    assert run_pipe("-q", "hi", env=env).returncode == 0
    done = run_pipe("-c", "--retry", env=env)
    (line,) = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2 and line.startswith("herald: error: --retry: the last turn") and "nothing to retry" in line
    assert len(fake.requests) == 1


def test_retry_needs_a_session(env) -> None:
    done = run_pipe("--retry", env=env)
    assert done.returncode == 2 and "--retry needs the session" in done.stderr.decode()


def test_json_retry_reports_the_turn(fake: FakeProvider, env) -> None:
    import json

    fake.enqueue(DOWN)
    assert run_pipe("-q", "question one", env=env).returncode == 1
    fake.clear()
    fake.enqueue(Reply(text="answer one"))
    done = run_pipe("-c", "--retry", "--json", env=env)
    assert done.returncode == 0, done.stderr
    completed = json.loads(done.stdout.decode().splitlines()[-1])
    assert completed["status"] == "completed" and completed["final_response"] == "answer one"


def test_slash_retry_in_chat(fake: FakeProvider, env, home) -> None:
    fake.enqueue(DOWN)
    child = spawn(env=env)
    child.expect("›")
    child.sendline("Name a colour.")
    child.expect("herald: error")
    child.expect("›")
    fake.clear()
    fake.enqueue(Reply(text="Blue, the colour."))
    child.sendline("/retry")
    child.expect("Blue, the colour.")
    child.expect("›")
    child.sendcontrol("d")
    output = finish(child)
    assert child.exitstatus == 0, screen(output)
    assert [m["role"] for m in stored(home)] == ["user", "assistant"]
    assert [m["content"] for m in fake.requests[-1].body["messages"] if m["role"] == "user"] == ["Name a colour."]
