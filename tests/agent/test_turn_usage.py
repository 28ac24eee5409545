"""Token usage per answer and per turn, on every wire, streamed and not; stored with the session."""

from __future__ import annotations

import json

import pytest

from fakeprovider import Reply, ToolCallSpec
from herald.agent import AIAgent
from herald.agent.messages import for_api
from herald.agent.usage import UsageTotals, session_usage
from herald.llm.types import Usage
from herald.sessions import SessionStore

MODES = ["chat_completions", "codex_responses", "anthropic_messages"]


def make_agent(fake, tmp_path, mode: str, stream: bool, **kwargs) -> AIAgent:
    return AIAgent(
        model="test/model", api_mode=mode, api_key="sk-usage-test-000000000000",
        base_url=fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url,
        skip_context_files=True, skip_memory=True, cwd=tmp_path, max_retries=0,
        stream_delta_callback=(lambda delta: None) if stream else None, **kwargs,
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [True, False])
def test_turn_usage_is_summed_over_its_answers(fake, tmp_path, mode, stream):
    (tmp_path / "a.txt").write_text("alpha\n")
    fake.enqueue(
        Reply(tool_calls=[ToolCallSpec("read_file", json.dumps({"path": "a.txt"}))], usage=(100, 20), cached_tokens=64,
              cache_write_tokens=30),
        Reply(text="It says alpha.", usage=(130, 7), cached_tokens=96, reasoning_tokens=3),
    )
    store = SessionStore(tmp_path / "sessions.db")
    agent = make_agent(fake, tmp_path, mode, stream, session_store=store)
    result = agent.run_conversation("read a.txt")
    assert result["completed"], result["error"]
    reasoning = 3 if mode != "anthropic_messages" else None  # Anthropic reports no reasoning count
    assert result["usage"] == {
        "input_tokens": 230, "output_tokens": 27, "cached_input_tokens": 160,
        "cache_write_input_tokens": 30 if mode == "anthropic_messages" else None,  # only Anthropic reports writes
        "reasoning_tokens": (0 + 3) if mode == "codex_responses" else reasoning,
    }
    assert result["fallback_reason"] is None
    answers = [m for m in result["messages"] if m["role"] == "assistant"]
    assert [a["usage"]["input_tokens"] for a in answers] == [100, 130]
    # Stored with each message, and never sent back to the provider.
    stored = store.load_messages(agent.session_id)
    assert [m.get("usage") for m in stored] == [m.get("usage") for m in result["messages"]]
    assert all("usage" not in m for m in for_api(stored, keep_replay_data=True))
    assert "input_tokens" not in json.dumps(fake.requests[1].body.get("messages") or fake.requests[1].body.get("input"))


def test_a_fallback_reports_its_reason(fake, tmp_path):
    fake.enqueue(Reply(text="Whole answer here.", fault="cut", fault_after=2, repeat=2, usage=(40, 9)))
    agent = make_agent(fake, tmp_path, "chat_completions", True, persist_session=False)
    result = agent.run_conversation("hi")
    assert result["final_response"] == "Whole answer here."
    assert result["usage"]["output_tokens"] == 9
    assert result["fallback_reason"] and "finish" in result["fallback_reason"]


def test_totals_keep_details_unknown_until_reported():
    totals = UsageTotals()
    assert totals.record() is None
    totals.add(Usage(prompt_tokens=10, completion_tokens=2))
    assert totals.record() == {"input_tokens": 10, "output_tokens": 2, "cached_input_tokens": None, "cache_write_input_tokens": None, "reasoning_tokens": None}
    totals.add({"input_tokens": 5, "output_tokens": 1, "cached_input_tokens": 4, "cache_write_input_tokens": None, "reasoning_tokens": None})
    totals.add(None)
    totals.add("garbage")  # type: ignore[arg-type]
    assert totals.record() == {"input_tokens": 15, "output_tokens": 3, "cached_input_tokens": 4, "cache_write_input_tokens": None, "reasoning_tokens": None}
    assert totals.responses == 2


def test_session_usage_counts_assistant_messages_only():
    history = [
        {"role": "user", "content": "q", "usage": {"input_tokens": 999}},
        {"role": "assistant", "content": "a", "usage": {"input_tokens": 3, "output_tokens": 4}},
        {"role": "assistant", "content": "b"},
    ]
    totals = session_usage(history)
    assert (totals.input_tokens, totals.output_tokens, totals.responses) == (3, 4, 1)


def test_usage_is_summed_in_one_place_a_detail_staying_none_until_reported():
    first = Usage(prompt_tokens=10, completion_tokens=2, total_tokens=12, cached_tokens=4)
    second = Usage(prompt_tokens=5, completion_tokens=1, total_tokens=6, cache_write_tokens=3, reasoning_tokens=1)
    assert first + second == Usage(15, 3, 18, reasoning_tokens=1, cached_tokens=4, cache_write_tokens=3)
    assert (first + first).cache_write_tokens is None
