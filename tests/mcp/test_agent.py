"""An agent conversation over the fake provider in which the model calls MCP tools."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from demo_helpers import demo, pid_alive, wait_gone
from fakeprovider import Reply, ToolCallSpec
from herald import AIAgent

KEY = "sk-test-mcp-0123456789abcdef"


def make_agent(fake, tmp_path: Path, servers: dict, **kwargs) -> AIAgent:
    options = dict(
        model="test/model", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True,
        skip_memory=True, cwd=tmp_path, max_retries=0, persist_session=False, mcp_servers=servers,
    )
    options.update(kwargs)
    return AIAgent(**options)


def tool_messages(result) -> list[tuple[str, str]]:
    return [(m["name"], m["content"]) for m in result["messages"] if m["role"] == "tool"]


def offered(request) -> dict[str, dict]:
    return {t["function"]["name"]: t["function"] for t in request.body.get("tools") or []}


def test_the_model_calls_an_mcp_tool_and_reads_its_result(fake, tmp_path: Path):
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("mcp__demo__add", json.dumps({"a": 20, "b": 22}))]),
        Reply(text="The sum is 42."),
    )
    progress = []
    with make_agent(fake, tmp_path, demo(), tool_progress_callback=progress.append, stream_delta_callback=lambda t: None) as agent:
        result = agent.run_conversation("add 20 and 22")
        pid = int(agent.mcp.call("demo", "pid", {}).text)
    assert result["completed"], result["error"]
    assert tool_messages(result) == [("mcp__demo__add", '{\n  "sum": 42\n}')]
    assert result["final_response"] == "The sum is 42."
    tools = offered(fake.requests[0])
    assert {"terminal", "read_file", "mcp__demo__add", "mcp__demo__echo"} <= set(tools)
    assert tools["mcp__demo__add"]["parameters"]["required"] == ["a", "b"]
    assert [(p.kind, p.name, p.ok) for p in progress] == [("start", "mcp__demo__add", True), ("end", "mcp__demo__add", True)]
    assert wait_gone(pid), "the server must stop with the agent"


def test_parallel_read_only_calls_and_bad_arguments(fake, tmp_path: Path):
    fake.enqueue(
        Reply(tool_calls=[
            ToolCallSpec("mcp__demo__echo", json.dumps({"text": "one"})),
            ToolCallSpec("mcp__demo__echo", json.dumps({"text": "two"})),
            ToolCallSpec("mcp__demo__add", json.dumps({"a": "x"})),
        ]),
        Reply(text="done"),
    )
    with make_agent(fake, tmp_path, demo()) as agent:
        assert agent._tool_is_read_only("mcp__demo__echo", "{}") and not agent._tool_is_read_only("mcp__demo__write_note", "{}")
        result = agent.run_conversation("go")
    (_, one), (_, two), (_, bad) = tool_messages(result)
    assert (one, two) == ("one", "two")
    assert "invalid arguments for mcp__demo__add" in bad and "missing required field 'b'" in bad


def test_tools_that_may_write_ask_first_and_are_refused_without_anyone_to_ask(fake, tmp_path: Path):
    call = ToolCallSpec("mcp__demo__write_note", json.dumps({"name": "note.txt", "text": "hi"}))
    fake.enqueue(Reply(tool_calls=[call]), Reply(text="not allowed"))
    with make_agent(fake, tmp_path, demo()) as agent:
        result = agent.run_conversation("write a note")
    assert "refused" in tool_messages(result)[0][1] and not (tmp_path / "note.txt").exists()

    asked = []
    fake.enqueue(Reply(tool_calls=[call]), Reply(tool_calls=[call]), Reply(text="written"))
    with make_agent(fake, tmp_path, demo(), approval_callback=lambda r: asked.append(r) or "always") as agent:
        result = agent.run_conversation("write it twice")
    assert [r.kind for r in asked] == ["tool"], "'always' approves the tool for the session"
    assert asked[0].subject.startswith("mcp__demo__write_note {") and "not marked read-only" in asked[0].reason
    assert (tmp_path / "note.txt").read_text() == "hi"


def test_a_trusted_server_and_yolo_do_not_ask(fake, tmp_path: Path):
    call = ToolCallSpec("mcp__demo__write_note", json.dumps({"name": "t.txt", "text": "trusted"}))
    never = lambda request: (_ for _ in ()).throw(AssertionError("asked"))  # noqa: E731
    for options, servers in [({}, demo(trust=True)), ({"yolo": True}, demo())]:
        (tmp_path / "t.txt").unlink(missing_ok=True)
        fake.enqueue(Reply(tool_calls=[call]), Reply(text="ok"))
        with make_agent(fake, tmp_path, servers, approval_callback=never, **options) as agent:
            agent.run_conversation("write")
        assert (tmp_path / "t.txt").read_text() == "trusted"


def test_a_server_that_cannot_start_is_absent_and_the_rest_works(fake, tmp_path: Path):
    fake.enqueue(Reply(text="hello without it"))
    servers = {"broken": {"command": "no-such-mcp-command-anywhere"}, **demo(include=["echo"])}
    with make_agent(fake, tmp_path, servers) as agent:
        statuses = {s.name: s.state for s in agent.start_mcp()}
        result = agent.run_conversation("hi")
    assert statuses == {"broken": "failed", "demo": "connected"}
    assert result["completed"] and result["final_response"] == "hello without it"
    names = set(offered(fake.requests[0]))
    assert "mcp__demo__echo" in names and "mcp__demo__add" not in names
    assert not any(name.startswith("mcp__broken") for name in names)


def test_an_interrupt_during_an_mcp_call_stops_it(fake, tmp_path: Path):
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("mcp__demo__slow", json.dumps({"seconds": 30}))]), Reply(text="x"))
    with make_agent(fake, tmp_path, demo()) as agent:
        agent.start_mcp()
        threading.Timer(0.5, agent.interrupt).start()
        result = agent.run_conversation("wait")
    assert result["interrupted"]
    assert "interrupted by the user" in tool_messages(result)[0][1]


def test_close_is_idempotent_and_a_later_use_starts_the_servers_again(fake, tmp_path: Path):
    agent = make_agent(fake, tmp_path, demo())
    first = int(agent.mcp.call("demo", "pid", {}).text)
    agent.close()
    agent.close()
    assert wait_gone(first)
    second = int(agent.mcp.call("demo", "pid", {}).text)
    assert second != first and pid_alive(second)
    agent.close()
    assert wait_gone(second)


def test_the_async_agent_uses_mcp_tools_and_stops_their_servers_on_aclose(fake, tmp_path: Path):
    import asyncio

    from herald import AsyncAIAgent

    fake.enqueue(Reply(tool_calls=[ToolCallSpec("mcp__demo__pid", "{}")]), Reply(text="done"))

    async def main() -> dict:
        options = dict(
            base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
            cwd=tmp_path, max_retries=0, persist_session=False, mcp_servers=demo(),
        )
        async with AsyncAIAgent("test/model", **options) as agent:
            return await agent.run_conversation("which process are you?")

    result = asyncio.run(main())
    assert result["completed"], result["error"]
    [(name, content)] = tool_messages(result)
    assert name == "mcp__demo__pid"
    assert wait_gone(int(content)), "the server must stop with the async agent"
