"""The real `herald` program in a pseudo-terminal, against the fake provider."""

from __future__ import annotations

import time

import pexpect
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald.cli.display import INTERRUPTED_MARKER, RESET_MARKER

from .proc import finish, herald_env, screen, spawn, strip_ansi

PROMPT = "›"


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY="sk-test-key-0123456789abcdef", HERALD_MODEL="fake-model")


def test_streaming_text_appears_progressively(fake: FakeProvider, env: dict[str, str]) -> None:
    # 50 chunks of 4 characters, 50 ms apart: about 2.5 s from the first word to the last.
    text = "Opening words arrive first.\n\n" + "filler " * 10 + "\n\n" + "more " * 20 + "\n\nClosing sentence ends it."
    fake.enqueue(Reply(text=text, delay=0.05, chunk_chars=4))
    child = spawn("-q", "hello", env=env)
    child.expect("Opening words")
    seen_first = time.monotonic()
    shown_so_far = strip_ansi((child.before or "") + (child.after or ""))
    assert "Closing sentence" not in shown_so_far
    assert child.isalive()
    rest = finish(child)
    finished = time.monotonic()
    assert "Closing sentence ends it." in screen(rest)
    assert finished - seen_first > 1.0, "the first words should be on screen well before the answer is complete"
    assert child.exitstatus == 0


def test_stream_reset_shows_the_final_answer_exactly_once(fake: FakeProvider, env: dict[str, str]) -> None:
    lines = [f"Line {i} of the answer, long enough to show." for i in range(1, 9)]
    final = "The unique final sentence is here."
    text = "\n\n".join(lines + [final])
    # The stream is cut after a few lines have been shown; the fallback request gets the whole answer.
    fake.enqueue(Reply(text=text, fault="cut", fault_after=30, delay=0.01, chunk_chars=4, repeat=2))
    child = spawn("-q", "tell me", env=env)
    output = child.read()  # everything until EOF
    child.close()
    assert child.exitstatus == 0
    seen = screen(output)
    joined = "\n".join(seen)
    # Everything shown was still on screen: replaced in place, so no marker is needed.
    assert RESET_MARKER not in joined
    for line in lines + [final]:
        assert joined.count(line) == 1, line
    positions = [joined.find(line) for line in lines + [final]]
    assert positions == sorted(positions)
    assert [r.stream for r in fake.requests] == [True, False]


def test_ctrl_c_stops_a_slow_stream_and_the_prompt_returns(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="slow " * 400, delay=0.05, chunk_chars=5))  # about 20 s
    fake.enqueue(Reply(text="Second answer."))
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("go slowly\r")
    child.expect("slow slow slow")
    started = time.monotonic()
    child.sendintr()
    child.expect_exact(INTERRUPTED_MARKER, timeout=5)
    assert time.monotonic() - started < 2.0
    child.expect(PROMPT)
    time.sleep(2.1)  # past the double-press window: the next Ctrl-C would not quit
    child.send("again\r")
    child.expect("Second answer.")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    assert child.exitstatus == 0
    # The interrupted turn was kept in the history sent with the next request.
    second = fake.requests[-1].body["messages"]
    assert any(m["role"] == "assistant" and str(m.get("content", "")).startswith("slow slow") for m in second)


def test_second_ctrl_c_within_two_seconds_exits(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="slow " * 400, delay=0.05, chunk_chars=5))
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("go\r")
    child.expect("slow slow")
    child.sendintr()
    child.expect_exact(INTERRUPTED_MARKER, timeout=5)
    child.expect(PROMPT)
    child.sendintr()
    finish(child)
    assert child.exitstatus == 130


def test_ctrl_d_at_an_empty_prompt_exits(env: dict[str, str]) -> None:
    child = spawn(env=env)
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    assert child.exitstatus == 0


def test_slash_commands(fake: FakeProvider, env: dict[str, str]) -> None:
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("/help\r")
    child.expect("/reasoning")
    child.expect(PROMPT)
    child.send("/model other-model\r")
    child.expect("model: other-model")
    child.expect(PROMPT)
    child.send("/tools\r")
    child.expect("tools: ")
    child.expect(PROMPT)
    child.send("/bogus\r")
    child.expect("unknown command /bogus")
    child.expect(PROMPT)
    fake.enqueue(Reply(text="Answer from the other model."))
    child.send("hi\r")
    child.expect("Answer from the other model.")
    child.expect(PROMPT)
    child.send("/quit\r")
    finish(child)
    assert child.exitstatus == 0
    assert fake.requests[-1].body["model"] == "other-model"


def test_multiline_input_with_a_trailing_backslash(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="Got it."))
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("first line\\\r")
    child.send("second line\r")
    child.expect("Got it.")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    user = [m for m in fake.requests[-1].body["messages"] if m["role"] == "user"]
    assert user[-1]["content"] == "first line\nsecond line"


def test_dangerous_command_asks_and_ctrl_c_denies(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("terminal", '{"command": "rm -rf /tmp/herald-test-nothing-here"}')]),
        Reply(text="Understood, not deleting."),
    )
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("clean up\r")
    child.expect("approval needed")
    child.expect("rm -rf /tmp/herald-test-nothing-here")
    child.expect("Allow\\?")
    child.sendcontrol("c")
    child.expect("→ deny")
    child.expect("Understood, not deleting.")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    tool_results = [m for m in fake.requests[-1].body["messages"] if m["role"] == "tool"]
    assert "denied" in tool_results[-1]["content"]


def test_chat_without_a_key_fails_before_the_prompt(env: dict[str, str]) -> None:
    del env["HERALD_API_KEY"]
    env["HERALD_BASE_URL"] = "https://llm.example.com/v1"
    child = spawn(env=env)
    output = strip_ansi(finish(child))
    assert child.exitstatus == 2
    assert "no API key for llm.example.com" in output
    assert "Traceback" not in output


def test_ctrl_c_in_one_shot_mode_exits_130_with_the_partial_answer(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="partial " * 300, delay=0.05, chunk_chars=8))
    child = spawn("-q", "hello", env=env)
    child.expect("partial partial")
    child.sendintr()
    output = finish(child)
    assert child.exitstatus == 130
    assert INTERRUPTED_MARKER in strip_ansi(output)
