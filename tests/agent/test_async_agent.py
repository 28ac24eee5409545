"""AsyncAIAgent over real HTTP (the loopback fake provider), on every wire.

What is the awaited agent's own: the sync agent's result dict, typed stream events, retries that
wait without blocking other conversations, what an endpoint taught shared by the instance, many
conversations on one instance at once with faults mixed in, the concurrency limit, leaving the
event loop early, coroutine approvals, one instance across event loops, nothing left open.

Faults, failover, key pools, interrupts and context overflow, one body for both agents:
tests/behaviour/.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald import AIAgent, AsyncAIAgent
from herald.agent.events import StreamEvent
from herald.tools.approval import ApprovalRequest, Decision

KEY = "herald-async-secret-4d2b8e6a1c"
WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]


def settings_for(fake: FakeProvider, mode: str, **options: Any) -> dict[str, Any]:
    settings: dict[str, Any] = dict(
        model="test/model",
        base_url=fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url,
        api_key=KEY,
        api_mode=mode,
        skip_context_files=True,
        skip_memory=True,
        quiet_mode=True,
        max_retries=1,
        persist_session=False,
    )
    settings.update(options)
    return settings


def make_agent(fake: FakeProvider, mode: str = "chat_completions", **options: Any) -> AsyncAIAgent:
    return AsyncAIAgent(**settings_for(fake, mode, **options))


def make_sync_agent(fake: FakeProvider, mode: str = "chat_completions", **options: Any) -> AIAgent:
    return AIAgent(**settings_for(fake, mode, **options))


class Screen:
    """What a reset-honouring consumer shows, from the events of one stream."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.resets = 0
        self.kinds: list[str] = []
        self.result: dict[str, Any] | None = None

    def take(self, event: StreamEvent) -> None:
        self.kinds.append(event.kind)
        if event.kind == "text":
            self.text.append(event.text)
        elif event.kind == "reset":
            self.resets += 1
            self.text.clear()
        elif event.kind == "done":
            self.result = event.result

    @property
    def shown(self) -> str:
        return "".join(self.text)


def agent_url(fake: FakeProvider, mode: str) -> str:
    return fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url


async def watch(agent: AsyncAIAgent, message: str) -> Screen:
    screen = Screen()
    async for event in agent.stream(message):
        screen.take(event)
    return screen


def no_tasks_left() -> bool:
    return len(asyncio.all_tasks()) == 1  # only the test's own


# ── one conversation, every wire ───────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_run_conversation_returns_the_sync_dict(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text="The answer is 42."))
    result = asyncio.run(make_agent(fake, mode).run_conversation("question"))
    assert result["completed"] and result["final_response"] == "The answer is 42."
    fake.enqueue(Reply(text="The answer is 42."))
    sync = make_sync_agent(fake, mode).run_conversation("question")
    assert list(result) == list(sync)  # the same keys, in the same order
    volatile = ("messages", "attempts")
    assert {k: v for k, v in result.items() if k not in volatile} == {k: v for k, v in sync.items() if k not in volatile}
    stable = ("number", "provider", "model", "key", "mode", "outcome", "response_model", "finish_reason", "usage")
    assert [{k: a[k] for k in stable} for a in result["attempts"]] == [{k: a[k] for k in stable} for a in sync["attempts"]]
    assert [a["outcome"] for a in result["attempts"]] == ["ok"]
    assert result["answered_by"] == {
        "model": "test/model", "base_url": agent_url(fake, mode), "reported_model": "test/model", "skipped": []
    }
    assert [m["role"] for m in result["messages"]] == ["user", "assistant"]
    # No consumer: a plain request, as the sync agent makes (on Responses, its buffered stream).
    assert fake.requests[-1].stream is (mode == "codex_responses")


@pytest.mark.parametrize("mode", WIRES)
def test_stream_yields_typed_events_ending_in_done(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text="streamed words arrive in pieces", reasoning="thinking first", chunk_chars=4))
    screen = asyncio.run(watch(make_agent(fake, mode), "go"))
    assert screen.kinds[0] == "reasoning" and screen.kinds[-1] == "done" and "text" in screen.kinds
    assert screen.shown == "streamed words arrive in pieces" == screen.result["final_response"]  # type: ignore[index]
    assert screen.kinds.count("text") > 3 and fake.requests[-1].stream


def test_retries_wait_without_blocking_other_conversations(fake: FakeProvider) -> None:
    fake.enqueue_for("slow", Reply(fault="http_error", status=429, retry_after=0.5), Reply(text="slow ok"))
    fake.enqueue_for("fast", Reply(text="fast ok"))
    agent = make_agent(fake)

    async def main() -> tuple[float, list[dict[str, Any]]]:
        started = time.monotonic()
        fast_done: list[float] = []

        async def fast() -> dict[str, Any]:
            await asyncio.sleep(0.1)
            result = await agent.run_conversation("fast")
            fast_done.append(time.monotonic() - started)
            return result

        results = await asyncio.gather(agent.run_conversation("slow"), fast())
        return fast_done[0], list(results)

    fast_after, (slow, quick) = asyncio.run(main())
    assert slow["final_response"] == "slow ok" and quick["final_response"] == "fast ok"
    assert fast_after < 0.45, "the retry's wait blocked the loop"


def test_what_an_endpoint_taught_is_shared_by_the_instance(fake: FakeProvider) -> None:
    fake.enqueue(Reply(fault="reject_stream"), Reply(text="plain"))
    fake.default = Reply(text="plain again")
    agent = make_agent(fake)

    async def main() -> list[Screen]:
        first = await watch(agent, "one")
        return [first, *await asyncio.gather(*(watch(agent, f"n{i}") for i in range(5)))]

    screens = asyncio.run(main())
    assert all(s.result and s.result["completed"] for s in screens)
    assert [r.stream for r in fake.requests] == [True] + [False] * 6  # one wasted stream in total


# ── many at once ───────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_many_concurrent_conversations_with_faults_each_get_their_own_answer(fake: FakeProvider, mode: str) -> None:
    faults: list[dict[str, Any]] = [
        {},
        {"fault": "cut", "fault_after": 2},
        {"fault": "stall", "fault_after": 2, "stall_seconds": 3},
        {"fault": "http_error", "status": 429, "retry_after": 0},
        {"fault": "malformed", "fault_after": 1},
        {"fault": "reject_stream"},
    ]
    count = 36
    for i in range(count):
        spec = faults[i % len(faults)]
        answer = f"answer number {i} for conversation c{i}"
        first = Reply(text=answer, chunk_chars=3, delay=0.01, **spec)
        # The faulty stream, then its replacement (the plain request, or the Responses buffered stream).
        fake.enqueue_for(f"c{i}:", *([first, Reply(text=answer)] if spec else [first]))
    agent = make_agent(fake, mode, stream_idle_timeout=0.5)

    fake.default = Reply(text="a later turn")

    async def main() -> list[Screen]:
        async with agent:
            screens = await asyncio.gather(*(watch(agent, f"c{i}: go") for i in range(count)))
            later = await watch(agent, "later")  # what the rejecting conversations taught holds for every later one
            # One request: the plain one (on Responses that is its buffered stream), no stream tried first.
            assert later.shown == "a later turn" and fake.requests[-1].stream is (mode == "codex_responses")
        assert no_tasks_left() and agent.client.open_pools == 0
        return list(screens)

    screens = asyncio.run(main())
    for i, screen in enumerate(screens):
        answer = f"answer number {i} for conversation c{i}"
        assert screen.result is not None and screen.result["final_response"] == answer, i
        assert screen.shown == answer, i
        faulty = faults[i % len(faults)].get("fault") in ("cut", "stall", "malformed")
        assert screen.resets == (1 if faulty else 0), (i, screen.resets)
    replaced = sum(1 for i in range(count) if faults[i % len(faults)])
    assert len(fake.requests) == count + replaced + 1  # one replacement per faulty stream, nothing more
    gc.collect()


def test_max_concurrency_limits_conversations_in_flight(fake: FakeProvider) -> None:
    fake.default = Reply(text="x" * 20, chunk_chars=2, delay=0.03)  # about 0.3 s per stream

    async def main() -> None:
        await asyncio.gather(*(watch(make_agent(fake, max_concurrency=3), f"m{i}") for i in range(3)))  # warm up
        fake.requests.clear()
        agent = make_agent(fake, max_concurrency=3)
        await asyncio.gather(*(watch(agent, f"m{i}") for i in range(9)))

    asyncio.run(main())
    times = sorted(request.time for request in fake.requests)
    assert len(times) == 9
    # Three waves of three: the fourth request waits for a stream of the first wave to end.
    assert times[2] - times[0] < 0.2 and times[3] - times[0] > 0.2 and times[6] - times[3] > 0.2


# ── cancellation is the interrupt ──────────────────────────────────────


def test_leaving_the_loop_early_interrupts_and_runs_no_half_streamed_tool(fake: FakeProvider, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = json.dumps({"command": f"touch {marker}"})
    fake.enqueue(Reply(text="Let me run it. " * 5, tool_calls=[ToolCallSpec("terminal", command)], chunk_chars=2, delay=0.03))
    agent = make_agent(fake, cwd=tmp_path, yolo=True)

    async def main() -> None:
        async with aclosing(agent.stream("touch it")) as events:
            async for event in events:
                if event.kind == "text":
                    break
        assert no_tasks_left()

    asyncio.run(main())
    time.sleep(0.5)
    assert not marker.exists()


# ── tools ──────────────────────────────────────────────────────────────


def test_tools_report_events_and_coroutine_approvals_decide(fake: FakeProvider, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("terminal", json.dumps({"command": f"rm -rf {victim}"}))]),
        Reply(text="deleted"),
    )
    asked: list[ApprovalRequest] = []

    async def approve(request: ApprovalRequest) -> Decision:
        await asyncio.sleep(0.01)
        asked.append(request)
        return "once"

    agent = make_agent(fake, cwd=tmp_path, approval_callback=approve)

    async def main() -> Screen:
        return await watch(agent, "delete it")

    screen = asyncio.run(main())
    assert not victim.exists() and len(asked) == 1
    assert screen.kinds.index("tool_started") < screen.kinds.index("tool_finished") < screen.kinds.index("done")
    assert screen.result is not None and screen.result["final_response"] == "deleted"


def test_one_instance_serves_several_event_loops_and_leaves_nothing_open(fake: FakeProvider) -> None:
    fake.default = Reply(text="again")
    agent = make_agent(fake)
    for _ in range(2):  # each asyncio.run is a new loop: the pool follows it
        result = asyncio.run(agent.run_conversation("hi"))
        assert result["final_response"] == "again"
        assert agent.client.open_pools == 0
    gc.collect()
