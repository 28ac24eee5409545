"""OpenTelemetry traces (issue 23, item 5): GenAI spans exported over OTLP/HTTP to a receiver
on 127.0.0.1, for both agents, the CLI and batch. Never a key in a span."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald import telemetry
from herald.agent import AIAgent
from herald.agent.async_core import AsyncAIAgent

from .conftest import Receiver

KEY = "sk-test-otel-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]


def options(fake: FakeProvider, tmp_path: Path, **more) -> dict:
    base = dict(
        model="fake-model", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True,
        skip_memory=True, cwd=tmp_path, persist_session=False, enabled_toolsets=["file"],
    )
    base.update(more)
    return base


def script(fake: FakeProvider) -> None:
    fake.enqueue(
        Reply(fault="http_error", status=503, retry_after=0),
        Reply(text="Let me look.", tool_calls=[ToolCallSpec("read_file", '{"path": "notes.txt"}')], usage=(20, 7)),
        Reply(text="It says hello.", usage=(30, 4)),
    )


def check_turn(receiver: Receiver, *, streamed: bool = False) -> None:
    (turn,) = receiver.named("invoke_agent")
    assert turn.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert turn.attributes["gen_ai.provider.name"] == "openai" and turn.attributes["gen_ai.request.model"] == "fake-model"
    assert turn.attributes["herald.turn.status"] == "completed"
    assert turn.attributes["gen_ai.usage.output_tokens"] == 11 and turn.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    chats = sorted(receiver.named("chat "), key=lambda s: s.start_ns)
    assert [s.name for s in chats] == ["chat fake-model"] * 3  # one per HTTP request: the 503, the tool call, the answer
    failed, tool_call, answer = chats
    assert failed.attributes["error.type"] and failed.attributes["http.response.status_code"] == 503
    assert failed.attributes["herald.attempt.next"] == "retry" and failed.status_code == 2  # STATUS_CODE_ERROR
    assert answer.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert answer.attributes["gen_ai.usage.input_tokens"] == 30 and answer.attributes["gen_ai.usage.output_tokens"] == 4
    assert answer.attributes["server.address"] == "127.0.0.1" and answer.attributes["gen_ai.response.model"] == "fake-model"
    if streamed:  # a stream's span says when its first chunk came; a plain request's has no such moment
        assert 0 < answer.attributes["gen_ai.response.time_to_first_chunk"] <= (answer.end_ns - answer.start_ns) / 1e9
    else:
        assert "gen_ai.response.time_to_first_chunk" not in answer.attributes
    assert all(s.kind == 3 and s.parent_id == turn.span_id and s.trace_id == turn.trace_id for s in chats)  # CLIENT
    assert turn.start_ns <= failed.start_ns and answer.end_ns <= turn.end_ns
    (tool,) = receiver.named("execute_tool")
    assert tool.name == "execute_tool read_file" and tool.parent_id == turn.span_id
    assert tool.attributes["gen_ai.tool.name"] == "read_file" and tool.attributes["gen_ai.tool.call.id"]
    assert tool_call.end_ns <= tool.start_ns
    assert [name for name, _ in turn.events] == ["herald.retry"]
    assert "gen_ai.input.messages" not in turn.attributes and "gen_ai.tool.call.arguments" not in tool.attributes
    assert all(KEY.encode() not in raw for raw in receiver.raw)


def test_the_sync_agent_traces_a_turn(receiver: Receiver, fake: FakeProvider, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    script(fake)
    with AIAgent(**options(fake, tmp_path, stream_delta_callback=lambda text: None)) as agent:
        assert agent.run_turn("What do my notes say?").completed
    telemetry.shutdown()  # flush
    check_turn(receiver, streamed=True)


def test_the_async_agent_traces_a_turn(receiver: Receiver, fake: FakeProvider, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    script(fake)

    async def turn() -> None:
        async with AsyncAIAgent(**options(fake, tmp_path)) as agent:
            assert (await agent.run_turn("What do my notes say?")).completed

    asyncio.run(turn())
    telemetry.shutdown()
    check_turn(receiver)


def test_content_only_when_asked_and_never_a_key(receiver: Receiver, fake: FakeProvider, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(telemetry.CAPTURE_CONTENT_ENV, "true")
    (tmp_path / "notes.txt").write_text("hello")
    script(fake)
    with AIAgent(**options(fake, tmp_path)) as agent:
        agent.run_turn(f"What do my notes say? (my key is {KEY})")
    telemetry.shutdown()
    (turn,) = receiver.named("invoke_agent")
    question = json.loads(turn.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"]
    assert question.startswith("What do my notes say?") and KEY not in question
    assert json.loads(turn.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == "It says hello."
    (tool,) = receiver.named("execute_tool")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"path": "notes.txt"}
    assert "hello" in tool.attributes["gen_ai.tool.call.result"]
    assert all(KEY.encode() not in raw for raw in receiver.raw)


def test_no_endpoint_no_tracing(fake: FakeProvider, tmp_path: Path, monkeypatch) -> None:
    telemetry.shutdown()
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    fake.enqueue(Reply(text="hi"))
    with AIAgent(**options(fake, tmp_path)) as agent:
        assert agent.run_turn("hi").completed
    assert telemetry._own_provider is None  # noqa: SLF001 - nothing was set up


def test_the_cli_exports_before_it_exits(receiver: Receiver, fake: FakeProvider, tmp_path: Path) -> None:
    fake.enqueue(Reply(text="Four."))
    env = {
        **__import__("os").environ, "PYTHONPATH": str(REPO), "HERALD_HOME": str(tmp_path / "home"),
        "HERALD_BASE_URL": fake.base_url, "HERALD_API_KEY": KEY, "HERALD_MODEL": "fake-model",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SERVICE_NAME": "my-eval",
    }
    done = subprocess.run([sys.executable, "-m", "herald", "-q", "2+2?"], env=env, capture_output=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == b"Four.\n", done.stderr
    (turn,) = receiver.named("invoke_agent")
    (chat,) = receiver.named("chat ")
    assert chat.parent_id == turn.span_id and turn.resource["service.name"] == "my-eval"
    assert turn.attributes["gen_ai.conversation.id"]  # the session
    assert receiver.paths == ["/v1/traces"] * len(receiver.paths)


def test_batch_traces_every_sample(receiver: Receiver, fake: FakeProvider, tmp_path: Path) -> None:
    from herald.cli.app import cli

    fake.default = Reply(text="ok")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "prompt": f"q{i}"}) + "\n" for i in range(3)))
    code = cli(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--base-url", fake.base_url, "--api-key", KEY, "--model", "fake-model"])
    assert code == 0  # cli() exported on its way out
    turns = receiver.named("invoke_agent")
    assert len(turns) == 3 and len({t.trace_id for t in turns}) == 3
    assert len(receiver.named("chat ")) == 3
