"""The real `herald` chat in a pseudo-terminal: Ctrl-D during an answer, typed-ahead text,
the recap on resuming, `/model` checked against the provider's list."""

from __future__ import annotations

import io

import pexpect
import pytest

from fakeprovider import FakeProvider, Reply
from herald.cli.display import INTERRUPTED_MARKER
from herald.sessions import SessionStore

from .proc import finish, herald_env, screen, spawn

PROMPT = "›"


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY="sk-test-key-0123456789abcdef", HERALD_MODEL="fake-model")


def recorded(child: pexpect.spawn) -> io.StringIO:
    """Everything the program writes from now on (pexpect's `before` holds only the last stretch)."""
    log = io.StringIO()
    child.logfile_read = log
    return log


def seen(log: io.StringIO) -> str:
    """What the screen shows, lines joined by spaces (so a wrapped line reads as one)."""
    return " ".join(screen(log.getvalue()))


def test_ctrl_d_while_an_answer_streams_stops_it_and_exits(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="slow " * 400, delay=0.05, chunk_chars=5))  # about 20 s
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("go slowly\r")
    child.expect("slow slow slow")
    child.sendcontrol("d")
    child.expect_exact(INTERRUPTED_MARKER, timeout=5)
    child.send("this must not reach the model\r")
    finish(child)
    assert child.exitstatus == 0
    assert len(fake.requests) == 1  # nothing typed after Ctrl-D became a question
    with SessionStore() as store:
        (info,) = store.list_sessions()
        stored = store.load_messages(info.id)
    assert stored[-1]["role"] == "assistant" and stored[-1]["interrupted"]
    assert stored[-1]["content"].startswith("slow slow")


def test_text_typed_during_an_answer_waits_at_the_next_prompt(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="one two three four five six seven eight", delay=0.1, chunk_chars=4), Reply(text="Second."))
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("first\r")
    child.expect("one two")
    child.send("next question")  # typed while the answer streams, without Enter
    child.expect("seven eight")
    child.expect(PROMPT)
    child.expect("next question")  # shown at the new prompt, not sent
    assert len(fake.requests) == 1
    child.send("\r")
    child.expect("Second.")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    assert fake.requests[-1].body["messages"][-1]["content"] == "next question"


def test_continue_shows_where_the_conversation_left_off(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="The capital of France is Paris."))
    first = spawn("-q", "What is the capital of France?", env=env)
    finish(first)
    assert first.exitstatus == 0
    child = spawn("-c", env=env)
    log = recorded(child)
    child.expect("Paris.")  # the recap's last line (its question line starts with a › too)
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    shown = seen(log)
    assert "resuming session" in shown and "(2 messages); where it left off:" in shown
    assert "› What is the capital of France?" in shown
    assert "The capital of France is Paris." in shown


def test_model_is_checked_against_the_providers_list(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.known_models = {"fake-model", "fake-model-large"}
    child = spawn(env=env)
    child.expect(PROMPT)
    log = recorded(child)
    child.send("/model fake-modle\r")
    child.expect("still using")
    child.expect(PROMPT)
    assert "no model fake-modle at 127.0.0.1:" in seen(log)
    assert "did you mean fake-model or fake-model-large?); still using fake-model" in seen(log)
    child.send("/model fake-model-large\r")
    child.expect("model: fake-model-large")
    child.expect(PROMPT)
    fake.enqueue(Reply(text="From the large one."))
    child.send("hi\r")
    child.expect("From the large one.")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    assert fake.requests[-1].body["model"] == "fake-model-large"


def test_model_without_a_list_is_switched_with_a_warning(fake: FakeProvider, env: dict[str, str]) -> None:
    child = spawn(env=env)  # the fake lists no models unless told
    child.expect(PROMPT)
    child.send("/model anything\r")
    child.expect(r"model: anything \(not checked: 127.0.0.1:\d+ has no model list\)")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
