"""Async tools: blocking tools never block the loop, the pool is bounded, hangs end, approvals may be async."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Mapping

import pytest

from herald.agent.async_tools import AsyncToolRunner, blocking_approval
from herald.tools.approval import ApprovalGate, ApprovalRequest, Decision
from herald.tools.base import ToolContext, ToolResult, function_schema
from herald.tools.registry import ToolRegistry
from herald.tools.terminal import TerminalTool


class SleepTool:
    """Blocks for `seconds` (a real tool: no event loop in sight), counting how many run at once."""

    name = "sleep"
    toolset = "test"
    read_only = True
    schema = function_schema("sleep", "sleep", {"seconds": {"type": "number"}}, ["seconds"])

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.stopped = 0
        self._lock = threading.Lock()

    def preview(self, args: Mapping[str, Any]) -> str:
        return str(args.get("seconds"))

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            deadline = time.monotonic() + args["seconds"]
            while time.monotonic() < deadline:
                if ctx.is_interrupted():
                    with self._lock:
                        self.stopped += 1
                    return ToolResult("stopped", ok=False)
                time.sleep(0.01)
            return ToolResult("slept")
        finally:
            with self._lock:
                self.running -= 1


def context(tmp_path: Path, gate: ApprovalGate | None = None) -> ToolContext:
    return ToolContext(cwd=tmp_path, approval=gate or ApprovalGate())


async def ticks_while(work: Any) -> tuple[Any, int]:
    """Await `work` while counting 10 ms ticks: a blocked loop would tick (almost) never."""
    ticks = 0
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.sleep(0.01)
        ticks += 1
    return task.result(), ticks


def test_blocking_tools_run_off_the_loop_in_a_bounded_pool(tmp_path: Path) -> None:
    tool = SleepTool()
    registry = ToolRegistry([tool])
    runner = AsyncToolRunner(registry.execute, workers=3)
    ctx = context(tmp_path)

    async def main() -> tuple[list[ToolResult], int]:
        calls = asyncio.gather(*(runner.run("sleep", '{"seconds": 0.3}', ctx) for _ in range(9)))
        return await ticks_while(calls)  # type: ignore[no-any-return]

    started = time.monotonic()
    results, ticks = asyncio.run(main())
    runner.close()
    assert [r.content for r in results] == ["slept"] * 9
    assert tool.peak == 3  # bounded: 9 calls, 3 at a time
    assert time.monotonic() - started >= 0.85  # three rounds of 0.3 s
    assert ticks >= 30  # the loop kept running all along


def test_a_hanging_tool_is_bounded_by_its_timeout_and_told_to_stop(tmp_path: Path) -> None:
    tool = SleepTool()
    runner = AsyncToolRunner(ToolRegistry([tool]).execute, workers=1, timeout=0.2)
    started = time.monotonic()
    result = asyncio.run(runner.run("sleep", '{"seconds": 30}', context(tmp_path)))
    assert not result.ok and "did not finish within 0.2s" in result.content
    assert time.monotonic() - started < 2.0
    deadline = time.monotonic() + 2
    while tool.stopped == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tool.stopped == 1 and tool.running == 0  # the worker is free again
    runner.close()


def test_a_hanging_command_is_killed(tmp_path: Path) -> None:
    runner = AsyncToolRunner(ToolRegistry([TerminalTool()]).execute, timeout=0.3)
    marker = tmp_path / "late"
    result = asyncio.run(runner.run("terminal", f'{{"command": "sleep 5; touch {marker}"}}', context(tmp_path)))
    assert not result.ok
    time.sleep(0.3)
    assert not marker.exists()
    runner.close()


def test_cancelling_the_task_stops_the_tool(tmp_path: Path) -> None:
    tool = SleepTool()
    runner = AsyncToolRunner(ToolRegistry([tool]).execute)

    async def main() -> None:
        task = asyncio.create_task(runner.run("sleep", '{"seconds": 30}', context(tmp_path)))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    deadline = time.monotonic() + 2
    while tool.stopped == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tool.stopped == 1
    runner.close()


@pytest.mark.parametrize("answer", ["once", "deny"])
def test_a_coroutine_approval_callback_decides_on_the_loop(tmp_path: Path, answer: Decision) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    asked: list[tuple[ApprovalRequest, bool]] = []

    async def main() -> ToolResult:
        loop = asyncio.get_running_loop()

        async def approve(request: ApprovalRequest) -> Decision:
            await asyncio.sleep(0.05)  # e.g. a web UI awaiting the user's click
            asked.append((request, asyncio.get_running_loop() is loop))
            return answer

        gate = ApprovalGate(blocking_approval(approve, loop))
        runner = AsyncToolRunner(ToolRegistry([TerminalTool()]).execute)
        try:
            return await runner.run("terminal", f'{{"command": "rm -rf {victim}"}}', context(tmp_path, gate))
        finally:
            runner.close()

    result = asyncio.run(main())
    assert len(asked) == 1 and asked[0][1] and asked[0][0].kind == "command"
    assert victim.exists() == (answer == "deny")
    assert result.ok == (answer == "once")


def test_a_pending_async_approval_is_abandoned_when_the_call_times_out(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()

    async def main() -> ToolResult:
        async def never(request: ApprovalRequest) -> Decision:
            await asyncio.sleep(30)
            return "once"

        gate = ApprovalGate(blocking_approval(never, asyncio.get_running_loop()))
        runner = AsyncToolRunner(ToolRegistry([TerminalTool()]).execute, timeout=0.2)
        try:
            return await runner.run("terminal", f'{{"command": "rm -rf {victim}"}}', context(tmp_path, gate))
        finally:
            runner.close()

    started = time.monotonic()
    result = asyncio.run(main())
    assert not result.ok and time.monotonic() - started < 2.0
    assert victim.exists()
