"""Chat completions wire, driven by the real openai SDK."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def stream(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model="test/model", messages=MESSAGES, stream=True, **kwargs))


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def finish_reasons(chunks: list[Any]) -> list[str]:
    return [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]


def test_text_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="Hello, world!", chunk_chars=5))
    chunks = stream(oai)
    assert [c.choices[0].delta.content for c in chunks[:-1]] == ["Hello", ", wor", "ld!"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].object == "chat.completion.chunk"
    assert chunks[0].model == "test/model"
    assert finish_reasons(chunks) == ["stop"]
    assert all(c.usage is None for c in chunks)
    assert fake.requests[0].stream is True
    assert fake.requests[0].path == "/v1/chat/completions"


def test_reasoning_streams_before_text(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="42", reasoning="let me think", model="other-model"))
    chunks = stream(oai)
    extras = [c.choices[0].delta.model_extra or {} for c in chunks]
    reasoning = "".join(e.get("reasoning_content", "") for e in extras)
    assert reasoning == "let me think"
    first_text = next(i for i, c in enumerate(chunks) if c.choices[0].delta.content)
    assert all("reasoning_content" not in e for e in extras[first_text:])
    assert text_of(chunks) == "42"
    assert chunks[0].model == "other-model"


def test_include_usage(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.default = Reply(text="hi", usage=(7, 3))
    chunks = stream(oai, stream_options={"include_usage": True})
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens, chunks[-1].usage.total_tokens) == (7, 3, 10)
    assert finish_reasons(chunks) == ["stop"]
    assert all(c.usage is None for c in stream(oai))


def _tool_deltas(chunks: list[Any]) -> list[Any]:
    return [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]


CALLS = [ToolCallSpec("read_file", '{"path": "a.txt"}'), ToolCallSpec("grep", '{"pattern": "x"}', id="my-id")]


def test_tool_calls_standard(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(tool_calls=CALLS))
    chunks = stream(oai)
    deltas = _tool_deltas(chunks)
    assert [(d.index, d.id, d.function.name) for d in deltas if d.id] == [(0, "call_1", "read_file"), (1, "my-id", "grep")]
    assert all(d.function.name is None for d in deltas if d.id is None)
    args = {i: "".join(d.function.arguments or "" for d in deltas if d.index == i) for i in (0, 1)}
    assert args == {0: CALLS[0].arguments, 1: CALLS[1].arguments}
    assert finish_reasons(chunks) == ["tool_calls"]
    assert text_of(chunks) == ""


def test_tool_calls_standard_with_sdk_stream_helper(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="ok", tool_calls=CALLS))
    with oai.chat.completions.stream(model="test/model", messages=MESSAGES) as s:
        final = s.get_final_completion()
    message = final.choices[0].message
    assert message.content == "ok"
    assert [(t.id, t.function.name, t.function.arguments) for t in message.tool_calls or []] == [
        ("call_1", "read_file", CALLS[0].arguments),
        ("my-id", "grep", CALLS[1].arguments),
    ]


def test_tool_calls_llamacpp_repeats_id_and_name(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(tool_calls=CALLS[:1], tool_call_style="llamacpp"))
    deltas = _tool_deltas(stream(oai))
    assert len(deltas) > 2
    assert all((d.id, d.function.name, d.index) == ("call_1", "read_file", 0) for d in deltas)
    assert "".join(d.function.arguments for d in deltas) == CALLS[0].arguments


def test_tool_calls_no_index(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(tool_calls=CALLS, tool_call_style="no_index"))
    deltas = _tool_deltas(stream(oai))
    assert deltas and all("index" not in d.model_fields_set for d in deltas)
    assert [d.id for d in deltas if d.id] == ["call_1", "my-id"]


def test_tool_calls_one_chunk(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(tool_calls=CALLS, tool_call_style="one_chunk"))
    deltas = _tool_deltas(stream(oai))
    assert [(d.index, d.id, d.function.name, d.function.arguments) for d in deltas] == [
        (0, "call_1", "read_file", CALLS[0].arguments),
        (1, "my-id", "grep", CALLS[1].arguments),
    ]


def test_tool_calls_interleaved(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(tool_calls=CALLS, tool_call_style="interleaved"))
    deltas = _tool_deltas(stream(oai))
    indexes = [d.index for d in deltas]
    assert indexes[:4] == [0, 1, 0, 1]
    args = {i: "".join(d.function.arguments or "" for d in deltas if d.index == i) for i in (0, 1)}
    assert args == {0: CALLS[0].arguments, 1: CALLS[1].arguments}


def test_non_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="Hi", reasoning="hmm", usage=(3, 2)), Reply(tool_calls=CALLS[:1]))
    done = oai.chat.completions.create(model="test/model", messages=MESSAGES)
    assert done.choices[0].message.content == "Hi"
    assert (done.choices[0].message.model_extra or {})["reasoning_content"] == "hmm"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.total_tokens == 5
    tools = oai.chat.completions.create(model="test/model", messages=MESSAGES)
    assert tools.choices[0].message.content is None
    assert tools.choices[0].finish_reason == "tool_calls"
    assert tools.choices[0].message.tool_calls is not None
    assert tools.choices[0].message.tool_calls[0].function.arguments == CALLS[0].arguments
    assert fake.requests[0].stream is False


def test_explicit_finish_reason(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="trunc", finish_reason="length"))
    assert finish_reasons(stream(oai)) == ["length"]


# -- faults ------------------------------------------------------------------------------


def test_cut_ends_iteration_without_finish_reason(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.default = Reply(text="abcdefghijklmnop", fault="cut", fault_after=2, repeat=2)
    chunks = stream(oai)
    assert text_of(chunks) == "abcdefgh"
    assert finish_reasons(chunks) == []
    # The same reply answers the fallback (non-streaming) request in full.
    assert oai.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "abcdefghijklmnop"


def test_cut_after_everything_but_finish(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="cut", fault_after=99))
    chunks = stream(oai, stream_options={"include_usage": True})
    assert text_of(chunks) == "abcdefgh"
    assert finish_reasons(chunks) == [] and all(c.choices for c in chunks)


def test_reset_is_a_connection_error(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="reset", fault_after=1))
    seen: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in oai.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            seen.append(chunk)
    assert text_of(seen) == "abcd"


def test_html_yields_no_chunk(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abc", fault="html"))
    assert stream(oai) == []
    raw = httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m", "stream": True})
    assert raw.status_code == 500  # queue empty now: "no scripted reply"
    fake.enqueue(Reply(fault="html"))
    raw = httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m", "stream": True})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/html")
    assert "<html>" in raw.text


def test_malformed(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="malformed", fault_after=1))
    seen: list[Any] = []
    with pytest.raises(ValueError):
        for chunk in oai.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            seen.append(chunk)
    assert text_of(seen) == "abcd"
    raw = _raw_stream(fake, Reply(text="abcdefgh", fault="malformed", fault_after=1))
    assert 'data: {"choices": [ {not json' in raw and raw.rstrip().endswith("data: [DONE]")


def _raw_stream(fake: FakeProvider, reply: Reply, path: str = "/chat/completions", **body: Any) -> str:
    fake.enqueue(reply)
    return httpx.post(f"{fake.base_url}{path}", json={"model": "m", "stream": True, **body}).text


def test_inband_error(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="inband_error", fault_after=1))
    seen: list[Any] = []
    with pytest.raises(openai.APIError, match="upstream overloaded"):
        for chunk in oai.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            seen.append(chunk)
    assert text_of(seen) == "abcd"


def test_no_finish(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="no_finish"))
    chunks = stream(oai)
    assert text_of(chunks) == "abcdefgh" and finish_reasons(chunks) == []
    raw = _raw_stream(fake, Reply(text="abcdefgh", fault="no_finish"))
    assert raw.rstrip().endswith("data: [DONE]")


def test_reject_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.default = Reply(text="full answer", fault="reject_stream")
    with pytest.raises(openai.BadRequestError, match="Streaming is not supported"):
        stream(oai)
    assert oai.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "full answer"


@pytest.mark.parametrize(("fault", "error"), [("reject_stream_options", openai.BadRequestError), ("crash_stream_options", openai.InternalServerError)])
def test_stream_options_faults(fake: FakeProvider, oai: openai.OpenAI, fault: str, error: type[Exception]) -> None:
    fake.default = Reply(text="hello", fault=fault)
    with pytest.raises(error, match="stream_options"):
        stream(oai, stream_options={"include_usage": True})
    assert text_of(stream(oai)) == "hello"


def test_http_error_429_with_retry_after_then_success(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=1.5, repeat=2), Reply(text="finally"))
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as info:
            stream(oai)
        assert info.value.response.headers["retry-after"] == "1.5"
        assert info.value.code == "rate_limit_exceeded"
    assert text_of(stream(oai)) == "finally"


def test_http_error_non_stream_custom_message(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(fault="http_error", status=503, error_message="try later"))
    with pytest.raises(openai.InternalServerError, match="try later") as info:
        oai.chat.completions.create(model="m", messages=MESSAGES)
    assert info.value.status_code == 503
    assert "retry-after" not in info.value.response.headers


def test_echo_key_leaks_key(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(fault="echo_key"), Reply(fault="echo_key"))
    for create in (lambda: stream(oai), lambda: oai.chat.completions.create(model="m", messages=MESSAGES)):
        with pytest.raises(openai.AuthenticationError, match="sk-test-123"):
            create()


def test_stall_first_byte_times_out_then_recovers(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="late", fault="stall_first_byte", stall_seconds=0.6))
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=0.2) as client:
        with pytest.raises(openai.APITimeoutError):
            stream(client)
    fake.enqueue(Reply(text="late", fault="stall_first_byte", stall_seconds=0.3))
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=5) as client:
        started = time.monotonic()
        assert text_of(stream(client)) == "late"
        assert time.monotonic() - started >= 0.3


def test_stall_mid_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="stall", fault_after=1, stall_seconds=0.4))
    arrivals: list[tuple[float, Any]] = []
    for chunk in oai.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        arrivals.append((time.monotonic(), chunk))
    assert text_of([c for _, c in arrivals]) == "abcdefgh"
    assert finish_reasons([c for _, c in arrivals]) == ["stop"]
    assert arrivals[1][0] - arrivals[0][0] >= 0.35


def test_stall_trips_read_timeout(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="stall", fault_after=1, stall_seconds=0.8))
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=0.2) as client:
        seen: list[Any] = []
        with pytest.raises(openai.APITimeoutError):
            for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
                seen.append(chunk)
    assert text_of(seen) == "abcd"


def test_keepalive_stall(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", fault="keepalive_stall", fault_after=1, stall_seconds=0.5))
    started = time.monotonic()
    chunks = stream(oai)
    assert time.monotonic() - started >= 0.45
    empties = [c for c in chunks if c.choices and c.choices[0].delta.content is None and not c.choices[0].finish_reason]
    assert len(empties) >= 2
    assert text_of(chunks) == "abcdefgh" and finish_reasons(chunks) == ["stop"]
    raw = _raw_stream(fake, Reply(text="ab", fault="keepalive_stall", stall_seconds=0.3))
    assert ": keep-alive" in raw


def test_delay_paces_chunks(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="abcdefgh", chunk_chars=2, delay=0.1))
    times = [time.monotonic() for _ in oai.chat.completions.create(model="m", messages=MESSAGES, stream=True)]
    assert times[-1] - times[0] >= 0.25


def test_stream_fault_does_not_affect_non_stream(fake: FakeProvider, oai: openai.OpenAI) -> None:
    for fault in ("cut", "malformed", "html", "inband_error", "no_finish", "stall", "stall_first_byte", "keepalive_stall"):
        fake.enqueue(Reply(text="whole", fault=fault, stall_seconds=5))
        started = time.monotonic()
        assert oai.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "whole"
        assert time.monotonic() - started < 2
