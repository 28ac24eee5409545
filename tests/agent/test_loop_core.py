"""The sans-IO loop core, driven through its ports by both drivers (no agent, no HTTP)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from herald.agent.loop import (
    NOT_RUN_INTERRUPTED,
    STOPPED_INTERRUPTED,
    AsyncPorts,
    SyncPorts,
    ToolProgress,
    run_async,
    run_sync,
)
from herald.agent.result import TurnResult
from herald.errors import AuthenticationError, Interrupted
from herald.llm.types import Choice, FunctionCall, LLMResponse, Message, ToolCall, Usage
from herald.tools.base import ToolResult

KEY = "sk-core-0123456789abcdef"


def answer(text: str, usage: tuple[int, int] = (3, 2), finish: str = "stop") -> LLMResponse:
    return LLMResponse([Choice(Message(content=text), finish)], usage=Usage(usage[0], usage[1], sum(usage)))


def calls(*names: str) -> LLMResponse:
    tool_calls = [ToolCall(f"c{i}", FunctionCall(name, "{}")) for i, name in enumerate(names)]
    return LLMResponse([Choice(Message(tool_calls=tool_calls), "tool_calls")], usage=Usage(1, 1, 2))


class Script:
    """The owner's side: scripted model answers, recorded tool runs, stored messages."""

    def __init__(self, *responses: LLMResponse | BaseException) -> None:
        self.responses = list(responses)
        self.requests: list[list[dict[str, Any]]] = []
        self.ran: list[str] = []
        self.stored: list[dict[str, Any]] = []
        self.progress: list[ToolProgress] = []
        self.interrupted = False

    def model(self, api_kwargs: dict[str, Any], messages: list[dict[str, Any]] | None = None, length: Any = None) -> LLMResponse:
        self.requests.append(list(api_kwargs["messages"]))
        item = self.responses.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def tool(self, name: str, raw: str) -> ToolResult:
        self.ran.append(name)
        return ToolResult(f"{name} ran", ok=name != "broken")

    def common(self) -> dict[str, Any]:
        return dict(
            build_request=lambda messages: {"messages": list(messages)},
            persist=self.stored.append,
            is_interrupted=lambda: self.interrupted,
            tool_is_read_only=lambda name, raw: name.startswith("read"),
            tool_preview=lambda name, raw: f"{name}({raw})",
            report_progress=self.progress.append,
            secrets=lambda: (KEY,),
        )

    def sync_ports(self) -> SyncPorts:
        return SyncPorts(call_model=self.model, execute_tool=self.tool, **self.common())

    def async_ports(self, partial: LLMResponse | None = None) -> AsyncPorts:
        async def call_model(api_kwargs: dict[str, Any], messages: list[dict[str, Any]], length: Any = None) -> LLMResponse:
            await asyncio.sleep(0)
            return self.model(api_kwargs, messages)

        async def execute_tool(name: str, raw: str) -> ToolResult:
            await asyncio.sleep(0)
            return self.tool(name, raw)

        return AsyncPorts(call_model=call_model, execute_tool=execute_tool, cancelled_partial=lambda: partial, **self.common())


def run_both(make: Any, message: str = "hi", **limits: int) -> tuple[TurnResult, TurnResult, Script, Script]:
    limits = {"max_iterations": 50, "max_continuations": 3, **limits}
    one, two = make(), make()
    sync = run_sync(one.sync_ports(), [], message, **limits)
    async_ = asyncio.run(run_async(two.async_ports(), [], message, **limits))
    return sync, async_, one, two


def test_both_drivers_make_the_same_turn_from_the_same_ports() -> None:
    sync, async_, one, two = run_both(lambda: Script(calls("read_a", "read_b", "write", "broken"), answer("done")))
    for result, script in ((sync, one), (async_, two)):
        assert result.status == "completed" and result.final_response == "done"
        assert script.ran[:2] in (["read_a", "read_b"], ["read_b", "read_a"]) and script.ran[2:] == ["write", "broken"]
        assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "tool", "tool", "tool", "assistant"]
        assert [m["tool_call_id"] for m in result.messages if m["role"] == "tool"] == ["c0", "c1", "c2", "c3"]
        assert script.stored == result.messages  # every message persisted as it was appended
        ends = [p for p in script.progress if p.kind == "end"]
        assert [p.ok for p in ends if p.name == "broken"] == [False] and ends[-1].summary == "broken ran"
        assert result.usage == Usage(4, 3, 7) and result.api_calls == 2
    assert sync.as_dict() == async_.as_dict()


def test_as_dict_keeps_the_run_conversation_contract() -> None:
    sync, _, _, _ = run_both(lambda: Script(answer("x")))
    assert list(sync.as_dict()) == [
        "final_response", "messages", "api_calls", "completed", "interrupted", "failed", "error", "error_type",
        "answered_by", "truncated", "usage", "fallback_reason",
        # issue 23, additions: how the turn ended, which limit, the finish reason, the attempts
        "status", "limit", "finish_reason", "attempts", "continuations",
    ]
    assert sync.as_dict()["completed"] is True and sync.as_dict()["error_type"] is None


def test_a_failure_is_an_exception_object_and_a_redacted_message() -> None:
    error = AuthenticationError(f"h answered HTTP 401: bad key {KEY}", status=401)
    sync, async_, _, _ = run_both(lambda: Script(error))
    for result in (sync, async_):
        assert result.status == "failed" and result.error is error
        assert KEY not in (result.error_message or "") and "401" in (result.error_message or "")
        assert result.as_dict()["error_type"] == "AuthenticationError" and result.messages == [{"role": "user", "content": "hi"}]


def test_an_unexpected_exception_is_reported_with_its_class() -> None:
    sync, _, _, _ = run_both(lambda: Script(KeyError("boom")))
    assert sync.failed and isinstance(sync.error, KeyError) and (sync.error_message or "").startswith("KeyError")


def test_length_cut_answers_are_continued_then_max_iterations_stops_honestly() -> None:
    sync, _, one, _ = run_both(lambda: Script(answer("a", finish="length"), answer("b")))
    assert sync.final_response == "ab" and one.requests[1][-1]["continuation"] is True
    sync, async_, _, _ = run_both(lambda: Script(*[calls("read_x")] * 3), max_iterations=3)
    for result in (sync, async_):
        assert result.status == "incomplete" and result.error is None and "max_iterations" in (result.error_message or "")
        assert result.as_dict()["completed"] is False and result.as_dict()["failed"] is False


def test_interrupt_before_a_tool_batch_answers_every_call_without_running_it() -> None:
    script = Script(calls("write", "write"))

    def interrupt_on_call(api_kwargs: dict[str, Any], messages: list[dict[str, Any]], length: Any = None) -> LLMResponse:
        script.interrupted = True
        return script.model(api_kwargs, messages)

    ports = script.sync_ports()
    ports = replace(ports, call_model=interrupt_on_call)
    result = run_sync(ports, [], "go", max_iterations=5, max_continuations=0)
    assert result.interrupted and script.ran == []
    assert [m["content"] for m in result.messages if m["role"] == "tool"] == [NOT_RUN_INTERRUPTED] * 2


def test_an_interrupted_model_call_keeps_the_partial_marked() -> None:
    partial = answer("half an ans")
    result = run_sync(Script(Interrupted(partial=partial)).sync_ports(), [], "go", max_iterations=5, max_continuations=0)
    assert result.interrupted and result.final_response == "half an ans"
    assert result.messages[-1] == {"role": "assistant", "content": "half an ans", "interrupted": True}


def test_cancelling_the_async_turn_records_the_partial_then_propagates() -> None:
    script = Script()
    partial = answer("so far")

    async def never(api_kwargs: dict[str, Any], messages: list[dict[str, Any]], length: Any = None) -> LLMResponse:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    ports = script.async_ports(partial)
    ports = replace(ports, call_model=never)

    async def main() -> None:
        task = asyncio.create_task(run_async(ports, [], "go", max_iterations=5, max_continuations=0))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert script.stored[-1] == {"role": "assistant", "content": "so far", "interrupted": True}


def test_cancelling_during_tools_answers_every_call() -> None:
    script = Script(calls("slow", "write"))
    ports = script.async_ports()

    async def slow(name: str, raw: str) -> ToolResult:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    ports = replace(ports, execute_tool=slow)

    async def main() -> None:
        task = asyncio.create_task(run_async(ports, [], "go", max_iterations=5, max_continuations=0))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert [m["content"] for m in script.stored if m["role"] == "tool"] == [STOPPED_INTERRUPTED, NOT_RUN_INTERRUPTED]


def test_who_answered_is_carried_from_the_response_to_the_result() -> None:
    final = answer("ok")
    final.extras["answered_by"] = {"model": "m2", "base_url": "http://b", "skipped": [{"model": "m1"}]}
    sync, async_, _, _ = run_both(lambda: Script(calls("read_x"), final))
    for result in (sync, async_):
        assert result.answered_by == final.extras["answered_by"] == result.as_dict()["answered_by"]
    failed, _, _, _ = run_both(lambda: Script(KeyError("boom")))
    assert failed.as_dict()["answered_by"] is None
