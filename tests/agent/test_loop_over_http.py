"""The conversation loop against the loopback fake provider: tools, approval, interrupts, sessions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.agent import AIAgent
from herald.sessions import SessionStore

KEY = "sk-test-loop-0123456789abcdef"


def make_agent(fake, tmp_path: Path, **kwargs) -> AIAgent:
    options = dict(
        model="test/model", base_url=fake.base_url, api_key=KEY, quiet_mode=True,
        skip_context_files=True, skip_memory=True, cwd=tmp_path, max_retries=0,
    )
    options.update(kwargs)
    return AIAgent(**options)


def tool_results(messages) -> list[tuple[str, str]]:
    return [(m["name"], m["content"]) for m in messages if m["role"] == "tool"]


def every_call_has_a_result(messages) -> bool:
    wanted = [c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    answered = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
    return wanted == answered


@pytest.mark.parametrize("style", ["standard", "llamacpp", "no_index"])
def test_streamed_tool_calls_run_once_each_with_the_exact_arguments(fake, tmp_path, style):
    fake.reject_null_content = True  # like llama.cpp's server: assistant content must not be null
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("write_file", json.dumps({"path": "notes.txt", "content": "line one\n"}))],
              tool_call_style=style, chunk_chars=3),
        Reply(tool_calls=[ToolCallSpec("read_file", json.dumps({"path": "notes.txt"}))], tool_call_style=style),
        Reply(text="The file says: line one."),
    )
    deltas: list[str] = []
    progress = []
    agent = make_agent(fake, tmp_path, stream_delta_callback=deltas.append, tool_progress_callback=progress.append)
    result = agent.run_conversation("write then read notes.txt")
    assert result["completed"] and not result["failed"], result["error"]
    assert result["final_response"] == "The file says: line one."
    assert (tmp_path / "notes.txt").read_text() == "line one\n"
    names = [name for name, _ in tool_results(result["messages"])]
    assert names == ["write_file", "read_file"]
    assert "line one" in tool_results(result["messages"])[1][1]
    assert [p.kind for p in progress] == ["start", "end", "start", "end"] and all(p.ok for p in progress)
    assert result["api_calls"] == 3 and every_call_has_a_result(result["messages"])
    sent = fake.requests[1].body["messages"]
    assert sent[2]["role"] == "assistant" and sent[2]["content"] == ""
    assert all(r.stream for r in fake.requests), "stream consumers → streamed requests"


def test_dangerous_command_is_refused_without_an_approval_callback(fake, tmp_path):
    victim = tmp_path / "keep"
    victim.mkdir()
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("terminal", json.dumps({"command": f"rm -rf {victim}"}))]),
        Reply(text="I was not allowed to delete it."),
    )
    result = make_agent(fake, tmp_path).run_conversation("delete keep/")
    assert victim.exists()
    assert "refused" in tool_results(result["messages"])[0][1]
    assert result["completed"]


def test_approval_callback_decides(fake, tmp_path):
    victim = tmp_path / "gone"
    victim.mkdir()
    asked = []
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("terminal", json.dumps({"command": f"rm -rf {victim}"}))]),
        Reply(text="done"),
    )
    agent = make_agent(fake, tmp_path, approval_callback=lambda request: asked.append(request) or "once")
    agent.run_conversation("delete gone/")
    assert len(asked) == 1 and not victim.exists()


def test_model_mistakes_become_tool_results_not_crashes(fake, tmp_path):
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("no_such_tool", "{}"), ToolCallSpec("read_file", '{"path": ')]),
        Reply(text="sorry"),
    )
    result = make_agent(fake, tmp_path).run_conversation("go")
    (unknown, unknown_text), (bad, bad_text) = tool_results(result["messages"])
    assert "read_file" in unknown_text  # tells the model which tools exist
    assert "JSON" in bad_text
    assert result["completed"] and result["final_response"] == "sorry"


def test_an_answer_cut_by_the_length_limit_is_continued(fake, tmp_path):
    fake.enqueue(Reply(text="First half, ", finish_reason="length"), Reply(text="second half."))
    result = make_agent(fake, tmp_path).run_conversation("long answer please")
    assert result["final_response"] == "First half, second half."
    assert result["api_calls"] == 2


def test_max_iterations_gives_an_honest_result(fake, tmp_path):
    fake.default = Reply(tool_calls=[ToolCallSpec("read_file", json.dumps({"path": "x"}))])
    (tmp_path / "x").write_text("x")
    result = make_agent(fake, tmp_path, max_iterations=3).run_conversation("loop forever")
    assert not result["completed"] and result["api_calls"] == 3
    assert "max_iterations" in result["error"]
    assert every_call_has_a_result(result["messages"])


def test_messages_are_stored_and_a_session_resumes_with_full_history(fake, tmp_path):
    fake.enqueue(Reply(text="The capital of Freedonia is Fredville."), Reply(text="You asked about Freedonia."))
    first = make_agent(fake, tmp_path, persist_session=True)
    first.run_conversation("What is the capital of Freedonia?")
    store = SessionStore()
    stored = store.load_messages(first.session_id)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    second = make_agent(fake, tmp_path, session_id=first.session_id)
    result = second.run_conversation("What did I ask?", conversation_history=stored)
    sent = [m["content"] for m in fake.requests[-1].body["messages"]]
    assert "What is the capital of Freedonia?" in sent and "What did I ask?" in sent
    assert len(store.load_messages(first.session_id)) == 4 == len(result["messages"])
    hits = store.search("Fredville")
    assert hits and hits[0].session_id == first.session_id
    assert KEY not in json.dumps(stored)
    store.close()


def test_context_file_reaches_the_system_prompt(fake, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "AGENTS.md").write_text("Always answer in haiku.")
    fake.enqueue(Reply(text="ok"))
    make_agent(fake, tmp_path, skip_context_files=False).run_conversation("hi")
    system = fake.requests[0].body["messages"][0]
    assert system["role"] == "system" and "Always answer in haiku." in system["content"]


def test_plain_requests_without_stream_consumers(fake, tmp_path):
    fake.enqueue(Reply(text="plain"))
    assert make_agent(fake, tmp_path).chat("hi") == "plain"
    assert fake.requests[0].stream is False
