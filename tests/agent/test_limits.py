"""Hard limits on a turn (issue 23, item 1): time, model calls, output tokens.

Both agents over real HTTP to the loopback fake provider: a limit ends the turn "limited",
names the limit, keeps the best answer so far, answers every tool call in the history, and
leaves no thread or upstream connection behind.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.agent import AIAgent
from herald.agent.async_core import AsyncAIAgent
from herald.agent.limits import TurnLimits
from herald.errors import ConfigError

KEY = "sk-test-limits-0123456789abcdef"


def options(fake, tmp_path: Path, **kwargs) -> dict:
    base = dict(
        model="test/model", base_url=fake.base_url, api_key=KEY, quiet_mode=True,
        skip_context_files=True, skip_memory=True, cwd=tmp_path, max_retries=0, persist_session=False,
    )
    base.update(kwargs)
    return base


def run(kind: str, fake, tmp_path: Path, message: str = "go", **kwargs):
    """One turn on the sync or the async agent; its TurnResult."""
    if kind == "sync":
        with AIAgent(**options(fake, tmp_path, **kwargs)) as agent:
            return agent.run_turn(message)

    async def turn():
        async with AsyncAIAgent(**options(fake, tmp_path, **kwargs)) as agent:
            return await agent.run_turn(message)

    return asyncio.run(turn())


def connection_closed(fake, request: int = 0, seconds: float = 5.0) -> bool:
    """That request's own connection (others the shared fake holds may stay open) is closed."""
    connection = fake.requests[request].connection
    end = time.monotonic() + seconds
    while fake.connection_open(connection) and time.monotonic() < end:
        time.sleep(0.05)
    return not fake.connection_open(connection)


def every_call_answered(messages) -> bool:
    wanted = [c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    return wanted == [m["tool_call_id"] for m in messages if m["role"] == "tool"]


BOTH = pytest.mark.parametrize("kind", ["sync", "async"])


@BOTH
def test_max_time_stops_a_slow_stream_with_what_had_arrived(kind, fake, tmp_path):
    fake.enqueue(Reply(text="The first half, then the rest. " * 20, chunk_chars=3, delay=0.1))  # ~20 s
    before = {t.ident for t in threading.enumerate()}
    started = time.monotonic()
    result = run(kind, fake, tmp_path, max_time=1.0, stream_delta_callback=lambda text: None)
    took = time.monotonic() - started
    assert result.status == "limited" and result.limit == "time", result.error_message
    assert took < 5  # not the 20 s answer
    assert result.final_response and ("The first half, then the rest. " * 20).startswith(result.final_response)
    assert result.as_dict()["status"] == "limited" and result.as_dict()["limit"] == "time"
    assert not result.completed and not result.failed
    assert connection_closed(fake)  # the upstream stream was closed
    assert len(fake.requests) == 1  # a limit is not a failure: no plain request after it
    assert threads_since(before) == []


def commands_running(command: str) -> list[int]:
    """Pids of processes running exactly `command` (given a moment to die)."""
    end = time.monotonic() + 5
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip() == command.encode():
                    found.append(int(entry.name))
            except OSError:
                continue
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.05)


def threads_since(before: set[int | None], seconds: float = 5.0) -> list[threading.Thread]:
    """Threads started since `before` that are still alive (given a moment to end)."""
    end = time.monotonic() + seconds
    while True:
        left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


@BOTH
def test_max_time_stops_a_slow_tool_and_answers_it(kind, fake, tmp_path):
    fake.enqueue(Reply(text="Let me wait.", tool_calls=[ToolCallSpec("terminal", '{"command": "sleep 20.0423"}')]))
    before = {t.ident for t in threading.enumerate()}
    started = time.monotonic()
    result = run(kind, fake, tmp_path, max_time=1.5, enabled_toolsets=["terminal"], yolo=True)
    assert time.monotonic() - started < 10
    # The async agent keeps its tool threads (idle) for its life; nothing else may stay.
    assert [t for t in threads_since(before) if not t.name.startswith("herald-tool")] == []
    assert not commands_running("sleep 20.0423")  # the tool's command was killed
    assert result.status == "limited" and result.limit == "time"
    assert every_call_answered(result.messages)
    assert result.final_response == "Let me wait."  # the best text so far: the model's note beside its call
    assert len(fake.requests) == 1


@BOTH
def test_max_turns_ends_a_tool_loop_at_n_model_calls(kind, fake, tmp_path):
    fake.default = Reply(text="again", tool_calls=[ToolCallSpec("read_file", '{"path": "nothing.txt"}')])
    result = run(kind, fake, tmp_path, max_turns=3, enabled_toolsets=["file"])
    assert result.status == "limited" and result.limit == "turns"
    assert result.api_calls == 3 and len(fake.requests) == 3
    assert every_call_answered(result.messages)
    assert "max_turns" in (result.error_message or "")


@BOTH
def test_max_output_tokens_sums_over_the_turn(kind, fake, tmp_path):
    fake.default = Reply(text="step", tool_calls=[ToolCallSpec("read_file", '{"path": "x"}')], usage=(10, 40))
    result = run(kind, fake, tmp_path, max_output_tokens=100, enabled_toolsets=["file"])
    assert result.status == "limited" and result.limit == "tokens"
    assert len(fake.requests) == 3  # 40 + 40 < 100 ≤ 120: the third call's tools are not run
    assert result.messages[-1]["role"] == "tool" and "output-token limit" in result.messages[-1]["content"]
    assert every_call_answered(result.messages)


@BOTH
def test_a_final_answer_within_the_limits_completes(kind, fake, tmp_path):
    fake.enqueue(Reply(text="done", usage=(10, 500)))
    result = run(kind, fake, tmp_path, max_time=30, max_turns=1, max_output_tokens=100)
    assert result.status == "completed" and result.limit is None and result.final_response == "done"
    assert result.finish_reason == "stop"


def test_a_length_cut_answer_says_so_in_finish_reason(fake, tmp_path):
    fake.enqueue(Reply(text="cut sho", finish_reason="length"))
    result = run("sync", fake, tmp_path, max_continuations=0)
    assert result.status == "completed" and result.truncated and result.finish_reason == "length"
    assert result.as_dict()["finish_reason"] == "length"


@pytest.mark.parametrize("bad", [{"max_time": 0}, {"max_turns": -1}, {"max_output_tokens": 0}])
def test_a_limit_must_be_positive(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        TurnLimits(**bad)
