"""OpenAI Responses wire, driven by the real openai SDK (raw stream and `responses.stream`)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec


def events(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    return list(client.responses.create(model="test/model", input="hi", stream=True, **kwargs))


def test_text_stream_and_final_response(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="Hello there", usage=(12, 4)))
    with oai.responses.stream(model="test/model", input="hi") as s:
        deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
        final = s.get_final_response()
    assert deltas == ["Hell", "o th", "ere"]
    assert final.output_text == "Hello there"
    assert final.status == "completed"
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens) == (12, 4, 16)
    assert fake.requests[0].path == "/v1/responses"


def test_event_sequence(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="ab", reasoning="hm", tool_calls=[ToolCallSpec("f", "{}")]))
    evs = events(oai)
    assert [e.sequence_number for e in evs] == list(range(len(evs)))
    types = [e.type for e in evs]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    for name in (
        "response.output_item.added",
        "response.reasoning_summary_text.delta",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ):
        assert name in types
    # Reasoning streams first, then text, then tool calls.
    assert types.index("response.reasoning_summary_text.delta") < types.index("response.output_text.delta")
    assert types.index("response.output_text.delta") < types.index("response.function_call_arguments.delta")
    assert len({e.response.id for e in evs if e.type.startswith("response.") and hasattr(e, "response")}) == 1


def test_reasoning_and_tool_calls_in_final_response(fake: FakeProvider, oai: openai.OpenAI) -> None:
    calls = [ToolCallSpec("read", '{"path": "x"}'), ToolCallSpec("write", '{"path": "y", "text": "long text"}', id="c-2")]
    fake.enqueue(Reply(reasoning="thinking...", tool_calls=calls))
    with oai.responses.stream(model="test/model", input="hi") as s:
        summary = "".join(e.delta for e in s if e.type == "response.reasoning_summary_text.delta")
        final = s.get_final_response()
    assert summary == "thinking..."
    kinds = [item.type for item in final.output]
    assert kinds == ["reasoning", "function_call", "function_call"]
    fcs = [item for item in final.output if item.type == "function_call"]
    assert [(f.call_id, f.name, f.arguments) for f in fcs] == [("call_1", "read", calls[0].arguments), ("c-2", "write", calls[1].arguments)]


def test_empty_final_output(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="streamed only", empty_final_output=True))
    with oai.responses.stream(model="test/model", input="hi") as s:
        text = "".join(e.delta for e in s if e.type == "response.output_text.delta")
        final = s.get_final_response()
    assert text == "streamed only"
    assert final.output == []


def test_non_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="plain", tool_calls=[ToolCallSpec("f", '{"a": 1}')]))
    resp = oai.responses.create(model="test/model", input="hi")
    assert resp.output_text == "plain"
    assert resp.output[-1].type == "function_call"
    assert resp.usage is not None and resp.usage.total_tokens == 15


def test_reject_non_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.default = Reply(text="streams fine", reject_non_stream=True)
    with pytest.raises(openai.BadRequestError, match="Stream must be set to true"):
        oai.responses.create(model="test/model", input="hi")
    with oai.responses.stream(model="test/model", input="hi") as s:
        assert s.get_final_response().output_text == "streams fine"


@pytest.mark.parametrize(("fault", "terminal", "status"), [("incomplete", "response.incomplete", "incomplete"), ("failed", "response.failed", "failed")])
def test_terminal_faults(fake: FakeProvider, oai: openai.OpenAI, fault: str, terminal: str, status: str) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault=fault, fault_after=1))
    evs = events(oai)
    assert evs[-1].type == terminal
    assert evs[-1].response.status == status
    assert [e.delta for e in evs if e.type == "response.output_text.delta"] == ["abcd"]
    assert "response.completed" not in [e.type for e in evs]


def test_failed_carries_error_and_finished_items(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(reasoning="rr", text="abcdefgh", fault="failed", fault_after=2, error_message="boom"))
    last = events(oai)[-1]
    assert last.response.error.message == "boom"
    assert [item.type for item in last.response.output] == ["reasoning"]


def test_inband_error_event(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="inband_error", fault_after=1))
    evs = events(oai)
    assert evs[-1].type == "error"
    assert evs[-1].message == "upstream overloaded"


@pytest.mark.parametrize("fault", ["cut", "no_finish"])
def test_stream_ends_without_completed(fake: FakeProvider, oai: openai.OpenAI, fault: str) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault=fault, fault_after=1))
    with oai.responses.stream(model="test/model", input="hi") as s:
        with pytest.raises(RuntimeError, match="response.completed"):
            s.get_final_response()
    expected = "abcd" if fault == "cut" else "abcdefgh"
    fake.enqueue(Reply(text="abcdefgh", fault=fault, fault_after=1))
    assert "".join(e.delta for e in events(oai) if e.type == "response.output_text.delta") == expected


def test_malformed(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="malformed", fault_after=1))
    with pytest.raises(json.JSONDecodeError):
        events(oai)


def test_reject_stream_and_html(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(fault="reject_stream"), Reply(fault="html"))
    with pytest.raises(openai.BadRequestError, match="Streaming is not supported"):
        events(oai)
    assert events(oai) == []


def test_http_error(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=3))
    with pytest.raises(openai.RateLimitError) as info:
        oai.responses.create(model="test/model", input="hi")
    assert info.value.response.headers["retry-after"] == "3"


def test_keepalive_stall_is_only_comments(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="ab", fault="keepalive_stall", stall_seconds=0.3))
    raw = httpx.post(f"{fake.base_url}/responses", json={"model": "m", "stream": True}).text
    assert raw.count(": keep-alive") >= 2
    assert '"delta":{}' not in raw
    assert "response.completed" in raw
