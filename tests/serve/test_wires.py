"""The two wires, sans-IO: requests read into chat-format calls, answers written from typed results."""

from __future__ import annotations

import json

import pytest

from herald.llm.types import Choice, FunctionCall, LLMResponse, Message, ToolCall, Usage
from herald.serve.call import BadRequest, Failure, anthropic_stop_reason, chat_finish_reason
from herald.serve.chat import ChatWriter, parse_chat
from herald.serve.messages import MessagesWriter, parse_messages


def _response(text: str | None = "Hi", *, finish: str = "stop", calls: list[ToolCall] | None = None, reasoning: str | None = None) -> LLMResponse:
    message = Message(content=text, tool_calls=calls, reasoning_content=reasoning)
    return LLMResponse(choices=[Choice(message, finish)], model="provider-model", usage=Usage(12, 3, 15))


def _sse(data: bytes) -> list[dict]:
    return [json.loads(line[6:]) for line in data.decode().split("\n") if line.startswith("data: {")]


@pytest.mark.parametrize(("herald", "anthropic"), [("stop", "end_turn"), ("tool_calls", "tool_use"), ("length", "max_tokens")])
def test_finish_reasons_map_across_wires(herald: str, anthropic: str) -> None:
    assert anthropic_stop_reason(herald) == anthropic
    assert chat_finish_reason(herald) == herald


def test_chat_request_is_passed_on_in_chat_format() -> None:
    call = parse_chat({
        "model": "fast", "messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "stream": True, "stream_options": {"include_usage": True}, "max_completion_tokens": 50, "temperature": 0.5,
        "top_p": 0.9, "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    })
    assert call.messages[0] == {"role": "system", "content": "be brief"}
    assert (call.stream, call.include_usage, call.max_tokens, call.temperature) == (True, True, 50, 0.5)
    assert call.options == {"top_p": 0.9}
    assert call.tools and call.tools[0]["function"]["name"] == "f"


@pytest.mark.parametrize(
    ("body", "named"),
    [({}, "model"), ({"model": "m"}, "messages"), ({"model": "m", "messages": []}, "messages"),
     ({"model": "m", "messages": [{"role": "robot"}]}, "messages[0]"), ({"model": "m", "messages": [{"role": "user"}], "tools": [1]}, "tools"),
     ({"model": "m", "messages": [{"role": "user"}], "temperature": "hot"}, "temperature")],
)
def test_a_bad_chat_request_names_the_field(body: dict, named: str) -> None:
    with pytest.raises(BadRequest, match=named.replace("[", r"\[")):
        parse_chat(body)


def test_messages_request_becomes_chat_history_with_tool_calls_and_results() -> None:
    call = parse_messages({
        "model": "fast", "max_tokens": 100, "system": [{"type": "text", "text": "sys"}],
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                              {"type": "text", "text": "let me look"},
                                              {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Oslo"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": "rain"}]},
                                         {"type": "text", "text": "and tomorrow?"}]},
        ],
        "tools": [{"name": "weather", "description": "d", "input_schema": {"type": "object"}}],
    })
    assert call.messages == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "let me look", "tool_calls": [
            {"id": "tu_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "tu_1", "content": "rain"},
        {"role": "user", "content": "and tomorrow?"},
    ]
    assert call.tools == [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}, "description": "d"}}]
    assert call.max_tokens == 100


def test_a_bad_messages_request_names_the_field() -> None:
    with pytest.raises(BadRequest, match="max_tokens"):
        parse_messages({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    with pytest.raises(BadRequest, match=r"messages\[0\].content\[0\]"):
        parse_messages({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "video"}]}]})


def test_chat_stream_ends_with_tool_calls_finish_usage_and_done() -> None:
    writer = ChatWriter("primary-model", include_usage=True)
    calls = [ToolCall("call_1", FunctionCall("f", '{"a": 1}'))]
    data = writer.preamble() + writer.text("Hi") + writer.finish(_response("Hi", finish="tool_calls", calls=calls))
    chunks = _sse(data)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[1]["choices"][0]["delta"] == {"content": "Hi"}
    assert chunks[2]["choices"][0]["delta"]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert chunks[3]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[4]["choices"] == [] and chunks[4]["usage"]["total_tokens"] == 15
    assert chunks[4]["model"] == "provider-model"
    assert data.endswith(b"data: [DONE]\n\n")


def test_an_in_band_error_is_not_a_finish() -> None:
    writer = ChatWriter("m")
    data = writer.preamble() + writer.text("Hal") + writer.error(Failure(502, "api_error", "api_error", "cut"))
    assert b"[DONE]" not in data and b'"finish_reason":"stop"' not in data
    assert _sse(data)[-1] == {"error": {"message": "cut", "type": "api_error", "param": None, "code": None}}
    anthropic = MessagesWriter("m")
    data = anthropic.preamble() + anthropic.text("Hal") + anthropic.error(Failure(502, "api_error", "api_error", "cut"))
    assert b"message_stop" not in data and b"message_delta" not in data
    assert data.endswith(b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"cut"}}\n\n')


def test_messages_stream_blocks_open_and_close_in_order() -> None:
    writer = MessagesWriter("m")
    calls = [ToolCall("tu_1", FunctionCall("f", '{"a": 1}'))]
    data = writer.preamble() + writer.reasoning("think") + writer.text("He") + writer.text("llo")
    data += writer.finish(_response("Hello", finish="tool_calls", calls=calls, reasoning="think"))
    events = [line[7:] for line in data.decode().split("\n") if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start", "content_block_delta", "content_block_stop",  # thinking
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",  # text
        "content_block_start", "content_block_delta", "content_block_stop",  # tool_use
        "message_delta", "message_stop",
    ]
    payloads = _sse(data)
    assert [p["index"] for p in payloads if p["type"] == "content_block_start"] == [0, 1, 2]
    assert payloads[-2]["delta"]["stop_reason"] == "tool_use"


def test_non_streamed_answers_name_the_answering_model() -> None:
    calls = [ToolCall("tu_1", FunctionCall("f", '{"a": 1}'))]
    chat = ChatWriter("primary").completion(_response("Hi", finish="length"))
    assert chat["model"] == "provider-model" and chat["choices"][0]["finish_reason"] == "length"
    message = MessagesWriter("primary").completion(_response(None, finish="tool_calls", calls=calls))
    assert message["model"] == "provider-model" and message["stop_reason"] == "tool_use"
    assert message["content"] == [{"type": "tool_use", "id": "tu_1", "name": "f", "input": {"a": 1}}]
    assert message["usage"] == {"input_tokens": 12, "output_tokens": 3, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


def test_cache_reads_and_writes_are_told_apart_on_the_anthropic_wire() -> None:
    from herald.serve.messages import usage_body

    # 100 prompt tokens: 60 read from the cache, 30 written to it, 10 plain (Anthropic's input_tokens).
    assert usage_body(Usage(100, 7, 107, cached_tokens=60, cache_write_tokens=30)) == {
        "input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 30}


def test_a_whole_answer_without_pieces_is_still_written(tmp_path: object) -> None:
    from herald.serve.relay import whole_answer  # the relay writes this when a call ends before any piece

    writer = ChatWriter("m")
    data = whole_answer(writer, _response("all at once", reasoning="why"))
    assert [c["choices"][0]["delta"] for c in _sse(data)] == [{"reasoning_content": "why"}, {"content": "all at once"}]
