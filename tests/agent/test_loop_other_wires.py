"""A full tool-using conversation through `run_conversation` on the Responses and Anthropic wires."""

from __future__ import annotations

import json

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.agent import AIAgent


@pytest.mark.parametrize("mode", ["codex_responses", "anthropic_messages"])
@pytest.mark.parametrize("stream", [True, False])
def test_tool_conversation(fake, tmp_path, mode, stream):
    (tmp_path / "data.txt").write_text("forty-two\n")
    fake.enqueue(
        Reply(reasoning="I should read the file.", text="Reading.",
              tool_calls=[ToolCallSpec("read_file", json.dumps({"path": "data.txt"}))]),
        Reply(text="The file says forty-two."),
    )
    deltas: list[str] = []
    agent = AIAgent(
        model="test/model", api_mode=mode, api_key="sk-wire-test-000000000000",
        base_url=fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url,
        skip_context_files=True, skip_memory=True, cwd=tmp_path, max_retries=0,
        stream_delta_callback=deltas.append if stream else None,
    )
    result = agent.run_conversation("What does data.txt say?")
    assert result["completed"], result["error"]
    assert result["final_response"] == "The file says forty-two."
    roles = [m["role"] for m in result["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert "forty-two" in result["messages"][2]["content"]
    # Responses' plain path is a buffered stream: some Codex backends reject `stream: false`.
    on_the_wire = stream or mode == "codex_responses"
    assert [r.stream for r in fake.requests] == [on_the_wire, on_the_wire]
    second = json.dumps(fake.requests[1].body)
    assert "forty-two" in second, "the tool result was sent back in the wire's own form"
    if stream:
        assert "".join(deltas).endswith("The file says forty-two.")
