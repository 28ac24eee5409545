"""`POST /v1/responses` (what current Codex CLI releases speak), real HTTP on both sides: the
official openai SDK as the client, raw HTTP for errors and faults, and every provider wire answering.

As on the other endpoints: a fault before content is invisible, an answer that cannot be finished
ends with `error` + `response.failed` (never `response.completed`), and a cut the provider can
continue goes on in place.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import httpx
import openai
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec

from herald.llm.types import Choice, FunctionCall, LLMResponse, Message, ToolCall, Usage
from herald.serve import custom_tools
from herald.serve.call import BadRequest, Failure
from herald.serve.responses import ResponsesWriter, input_history, parse_responses

from .harness import GATEWAY_KEY, Running

ANSWER = "The quick brown fox jumps over the lazy dog."
HEADERS = {"Authorization": f"Bearer {GATEWAY_KEY}"}
PROVIDER_MODELS = {"chat": "gpt-fake", "claude": "claude-fake", "responses": "gpt-resp"}
WEATHER = {
    "type": "function", "name": "weather", "description": "the weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def client(gateway: Running) -> Iterator[openai.OpenAI]:
    """The openai SDK pointed at the gateway, closed after the test (with its pooled connections)."""
    with openai.OpenAI(base_url=gateway.base_url, api_key=GATEWAY_KEY, max_retries=0, timeout=30) as sdk:
        yield sdk


def _post(gateway: Running, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/responses", json=body, headers=HEADERS if headers is None else headers, timeout=60)


def _events(body: str) -> list[dict[str, Any]]:
    """The SSE events of a raw body, checking that each `event:` name is its data's `type`."""
    events = []
    for block in body.split("\n\n"):
        lines = block.splitlines()
        names = [line[7:] for line in lines if line.startswith("event: ")]
        data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        if data:
            assert names == [data[0]["type"]], block
            events.append(data[0])
    return events


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


def _sent_text(fake: FakeProvider) -> str:
    return json.dumps(fake.requests[-1].body)


# ── the openai SDK as the client ────────────────────────────────────────


@pytest.mark.parametrize("model", ["chat", "claude", "responses"])
def test_sdk_stream_sees_the_whole_event_sequence(client: openai.OpenAI, fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text=ANSWER, usage=(11, 4)))
    events = list(client.responses.create(model=model, instructions="be brief", input="hi", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[2:4] == ["response.output_item.added", "response.content_part.added"]
    assert types[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert set(types[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == ANSWER
    final = events[-1].response  # type: ignore[union-attr]
    assert final.status == "completed" and final.output_text == ANSWER
    assert final.model == PROVIDER_MODELS[model]  # the provider model that answered
    assert events[0].response.id == final.id  # type: ignore[union-attr]
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens) == (11, 4, 15)
    sent = _sent_text(fake)
    assert "be brief" in sent and "hi" in sent  # instructions → the provider's system prompt


@pytest.mark.parametrize("model", ["chat", "claude", "responses"])
def test_sdk_plain_answer(client: openai.OpenAI, fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text=ANSWER, usage=(7, 3)))
    response = client.responses.create(
        model=model, input=[{"role": "developer", "content": "be brief"}, {"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        temperature=0.3, max_output_tokens=50,
    )
    assert response.object == "response" and response.status == "completed"
    assert response.output_text == ANSWER
    assert [item.type for item in response.output] == ["message"]
    assert response.model == PROVIDER_MODELS[model]
    assert response.usage is not None and (response.usage.input_tokens, response.usage.output_tokens) == (7, 3)
    assert (response.temperature, response.max_output_tokens) == (0.3, 50)
    assert fake.requests[-1].body["temperature"] == 0.3


def test_sdk_stream_helper_gives_the_final_response(client: openai.OpenAI, fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER, reasoning="Foxes are quick.", usage=(20, 9)))
    with client.responses.stream(model="claude", input="tell me") as stream:
        pieces = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(pieces) == ANSWER
    assert [item.type for item in final.output] == ["reasoning", "message"]
    reasoning = final.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "Foxes are quick."
    assert final.output_text == ANSWER and final.status == "completed"


def test_sdk_usage_details(client: openai.OpenAI, fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER, usage=(100, 20), cached_tokens=60, reasoning_tokens=8))
    events = list(client.responses.create(model="responses", input="hi", stream=True))
    usage = events[-1].response.usage  # type: ignore[union-attr]
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (100, 20, 120)
    assert usage.input_tokens_details.cached_tokens == 60
    assert usage.output_tokens_details.reasoning_tokens == 8


@pytest.mark.parametrize("model", ["chat", "claude", "responses"])
def test_sdk_tool_round_trip(client: openai.OpenAI, fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text="Looking.", tool_calls=[ToolCallSpec("weather", '{"city": "Oslo"}', id="call_w")]))
    with client.responses.stream(model=model, input="weather in Oslo?", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        arguments = "".join(e.delta for e in stream if e.type == "response.function_call_arguments.delta")
        first = stream.get_final_response()
    assert arguments == '{"city": "Oslo"}'
    assert [item.type for item in first.output] == ["message", "function_call"]
    call = first.output[1]
    assert call.type == "function_call" and (call.call_id, call.name, call.arguments) == ("call_w", "weather", '{"city": "Oslo"}')
    assert "weather" in json.dumps(fake.requests[-1].body["tools"])
    fake.enqueue(Reply(text="Rain in Oslo."))
    history: list[Any] = [{"role": "user", "content": "weather in Oslo?"}, *[item.model_dump(exclude_none=True) for item in first.output]]
    history.append({"type": "function_call_output", "call_id": "call_w", "output": "rain, 9 °C"})
    second = client.responses.create(model=model, input=history, tools=[WEATHER])  # type: ignore[list-item]
    assert second.output_text == "Rain in Oslo."
    sent = _sent_text(fake)
    assert "rain, 9 \\u00b0C" in sent or "rain, 9 °C" in sent
    assert "call_w" in sent  # the call and its result are paired on whichever wire the provider speaks


def test_length_ends_as_incomplete(client: openai.OpenAI, fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text="cut sh", finish_reason="length"))
    events = list(client.responses.create(model="chat", input="x", max_output_tokens=3, stream=True))
    assert events[-1].type == "response.incomplete"
    assert all(e.type != "response.completed" for e in events)
    final = events[-1].response  # type: ignore[union-attr]
    assert final.status == "incomplete" and final.incomplete_details is not None
    assert final.incomplete_details.reason == "max_output_tokens"
    assert fake.requests[-1].body.get("max_completion_tokens", fake.requests[-1].body.get("max_tokens")) == 3
    fake.enqueue(Reply(text="cut sh", finish_reason="max_tokens"))
    plain = client.responses.create(model="claude", input="x", max_output_tokens=3)
    assert plain.status == "incomplete" and plain.incomplete_details is not None
    assert plain.incomplete_details.reason == "max_output_tokens" and plain.output_text == "cut sh"


# ── errors, raw HTTP ────────────────────────────────────────────────────


def test_a_missing_key_is_401_in_openai_format(gateway: Running) -> None:
    response = _post(gateway, {"model": "chat", "input": "hi"}, headers={})
    assert response.status_code == 401
    assert response.json()["error"] == {"message": "missing or invalid API key", "type": "invalid_request_error", "param": None, "code": None}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"model": "chat", "input": "hi", "previous_response_id": "resp_1"}, "previous_response_id: not supported: the gateway is stateless"),
        ({"model": "chat"}, "input: required"),
        ({"model": "chat", "input": []}, "input: must not be empty"),
        ({"model": "chat", "input": [{"type": "computer_call", "call_id": "c"}]}, "input[0]: unsupported item type 'computer_call'"),
        ({"model": "chat", "input": [{"type": "custom_tool_call", "call_id": "c", "name": "apply_patch"}]}, "input[0].input: required (a string)"),
        ({"model": "chat", "input": [{"type": "custom_tool_call", "call_id": "c", "input": "x"}]}, "input[0].name: required"),
        ({"model": "chat", "input": [{"type": "custom_tool_call_output", "output": "x"}]}, "input[0].call_id: required"),
        ({"model": "chat", "input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]: item_reference is not supported"),
        ({"model": "chat", "input": [{"role": "robot", "content": "x"}]}, "input[0]: a message needs a role"),
        ({"model": "chat", "input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id: required"),
        ({"model": "chat", "input": "hi", "tools": [{"type": "local_shell"}]}, "tools[0]: unsupported tool type 'local_shell'"),
        ({"model": "chat", "input": "hi", "tools": [{"type": "web_search"}, {"type": "custom"}]}, "tools[1]: a custom tool needs a name"),
        (
            {"model": "chat", "input": "hi", "tools": [{"type": "custom", "name": "p", "format": {"type": "grammar", "syntax": "lark"}}]},
            "tools[0].format.definition: required",
        ),
        ({"model": "chat", "input": "hi", "tools": [{"type": "custom", "name": "p", "format": {"type": "json"}}]}, "tools[0].format: must be"),
        ({"model": "chat", "input": "hi", "tools": [{"type": "custom", "name": "weather"}, WEATHER]}, "tools: 'weather' names a custom tool and another tool"),
        ({"model": "chat", "input": "hi", "max_output_tokens": "many"}, "max_output_tokens: must be a whole number"),
    ],
)
def test_a_bad_request_is_a_one_line_400(gateway: Running, body: dict[str, Any], named: str) -> None:
    response = _post(gateway, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith(named), error
    assert "\n" not in error["message"] and "Traceback" not in response.text


def test_an_unknown_model_is_404(client: openai.OpenAI, gateway: Running) -> None:
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.responses.create(model="nope", input="x")


def test_hosted_tools_are_dropped_and_function_tools_kept(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER))
    tools = [{"type": "web_search"}, WEATHER, {"type": "file_search", "vector_store_ids": ["vs_1"]}]
    response = _post(gateway, {"model": "chat", "input": "hi", "tools": tools, "store": False, "parallel_tool_calls": True, "tool_choice": "auto"})
    assert response.status_code == 200, response.text
    sent = fake.requests[-1].body["tools"]
    assert [tool["function"]["name"] for tool in sent] == ["weather"]
    assert response.json()["tools"] == [WEATHER]


# ── faults ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize("fault", ["cut", "reset", "malformed", "inband_error", "stall_first_byte"])
def test_a_fault_before_content_is_invisible(fake: FakeProvider, gateway: Running, fault: str) -> None:
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=0, stall_seconds=30))
    fake.default = Reply(text=ANSWER)
    response = _post(gateway, {"model": "chat", "input": "q", "stream": True})
    assert response.status_code == 200
    events = _events(response.text)
    assert _text(events) == ANSWER
    assert [e["type"] for e in events].count("response.created") == 1
    assert events[-1]["type"] == "response.completed"
    assert not [e for e in events if e["type"] in ("error", "response.failed")]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert len(fake.requests) == 2  # the failed attempt was replaced


def test_every_provider_failing_before_content_is_a_real_status(fake: FakeProvider, gateway: Running) -> None:
    fake.default = Reply(fault="http_error", status=503, error_message="provider is down")
    response = _post(gateway, {"model": "chat", "input": "q", "stream": True})
    assert response.status_code == 503
    assert "provider is down" in response.json()["error"]["message"]
    assert "response.created" not in response.text  # the preamble was held too


def test_a_cut_after_content_that_cannot_continue_fails_in_band(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=3))
    fake.default = Reply(text=ANSWER)  # a restart would be answered: the client must still not see an end
    response = _post(gateway, {"model": "chat", "input": "q", "stream": True})
    assert response.status_code == 200
    events = _events(response.text)
    shown = _text(events)
    assert ANSWER.startswith(shown) and shown and shown != ANSWER
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert "incomplete" in events[-2]["message"]
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and "incomplete" in failed["error"]["message"]
    assert failed["output"][0]["content"][0]["text"] == shown and failed["output"][0]["status"] == "incomplete"
    assert all(e["type"] != "response.completed" for e in events)


def test_sdk_raises_where_the_answer_cannot_continue(client: openai.OpenAI, fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=3))
    fake.default = Reply(text=ANSWER)
    seen: list[str] = []
    with pytest.raises(openai.APIError, match="incomplete"):
        for event in client.responses.create(model="claude", input="q", stream=True):
            seen.append(event.type)
    assert "response.completed" not in seen and "response.output_text.delta" in seen


@pytest.mark.parametrize("model", ["chat-continues", "claude-continues"])
def test_a_cut_after_content_is_continued_in_place(client: openai.OpenAI, fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=3), Reply(text=ANSWER))
    with client.responses.stream(model=model, input="q") as stream:
        types = [e.type for e in stream]
        final = stream.get_final_response()
    assert final.output_text == ANSWER and final.status == "completed"
    assert types.count("response.created") == 1 and types.count("response.output_item.added") == 1
    assert fake.requests[1].body["messages"][-1]["role"] == "assistant"  # continued from the prefix, not restarted


def test_requests_are_counted_under_their_endpoint(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text=ANSWER))
    assert _post(gateway, {"model": "chat", "input": "q"}).status_code == 200
    metrics = httpx.get(f"{gateway.url}/metrics", headers=HEADERS, timeout=30).text
    assert re.search(r'herald_serve_requests_total\{endpoint="/v1/responses",model="chat",status="200"\} 1\.0', metrics), metrics


def test_a_codex_shaped_request_is_served(fake: FakeProvider, gateway: Running) -> None:
    # The fields Codex CLI sends with wire_api = "responses": the ones that do not carry across
    # wires are ignored, reasoning items it sends back are dropped, hosted tools are dropped.
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("shell", '{"command": ["ls"]}', id="call_s")]))
    shell = {"type": "function", "name": "shell", "description": "run", "strict": False,
             "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}
    body = {
        "model": "chat", "instructions": "You are Codex.", "stream": True, "store": False, "tool_choice": "auto",
        "parallel_tool_calls": False, "reasoning": {"effort": "medium", "summary": "auto"}, "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0b5c", "text": {"verbosity": "medium"}, "tools": [shell, {"type": "web_search"}],
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "sandbox: workspace-write"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list the files"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "earlier"}], "encrypted_content": None},
        ],
    }
    response = _post(gateway, body)
    assert response.status_code == 200, response.text
    events = _events(response.text)
    assert [e["type"] for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.output_item.done", "response.completed",
    ]  # an answer of tool calls only: no message item
    assert events[-2]["item"]["call_id"] == "call_s" and events[-2]["item"]["arguments"] == '{"command": ["ls"]}'
    sent = fake.requests[-1].body
    assert sent["messages"][0]["role"] == "system" and "You are Codex." in sent["messages"][0]["content"]
    assert [m["role"] for m in sent["messages"]] == ["system", "system", "user"]
    assert [t["function"]["name"] for t in sent["tools"]] == ["shell"]
    assert not {"reasoning", "store", "include", "tool_choice", "prompt_cache_key", "text"} & set(sent)


def test_input_items_become_chat_history() -> None:
    history = input_history([
        {"role": "user", "content": [{"type": "input_text", "text": "look "}, {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Looking."}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}'},
        {"type": "function_call", "call_id": "c2", "name": "g", "arguments": {"b": 2}},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
        {"type": "function_call", "call_id": "c3", "name": "f", "arguments": "{}"},
    ])
    assert history == [
        {"role": "user", "content": [{"type": "text", "text": "look "}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "content": "Looking.", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": '{"b": 2}'}},
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "two"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c3", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    ]


def test_images_in_tool_results_follow_the_turns_results() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
    history = input_history([
        {"type": "function_call", "call_id": "c1", "name": "view_image", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "the image:"}, image]},
        {"type": "function_call_output", "call_id": "c2", "output": "ok"},
        {"role": "user", "content": "what is in it?"},
    ])
    assert [m["role"] for m in history] == ["assistant", "tool", "tool", "user", "user"]  # no user turn between results
    assert history[1]["content"] == "the image:"
    assert history[3]["content"] == [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    with pytest.raises(BadRequest, match=r"^input: holds no message"):
        input_history([{"type": "reasoning", "summary": []}])


def test_a_request_maps_to_call_arguments() -> None:
    call = parse_responses({
        "model": "fast", "instructions": "sys", "input": "hi", "max_output_tokens": 64, "temperature": 0.2, "top_p": 0.9,
        "stream": True, "tools": [WEATHER],
    })
    assert call.messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    assert (call.max_tokens, call.temperature, call.options, call.stream) == (64, 0.2, {"top_p": 0.9}, True)
    assert call.tools == [{"type": "function", "function": {"name": "weather", "parameters": WEATHER["parameters"], "description": "the weather in a city"}}]


def _written(data: bytes) -> list[dict[str, Any]]:
    return _events(data.decode())


def test_writer_items_have_their_own_output_index() -> None:
    writer = ResponsesWriter("primary")
    calls = [ToolCall("call_1", FunctionCall("f", '{"a": 1}'))]
    answer = LLMResponse(choices=[Choice(Message("Hi", tool_calls=calls, reasoning_content="hm"), "tool_calls")], model="answered", usage=Usage(5, 2, 7))
    events = _written(writer.preamble() + writer.reasoning("hm") + writer.text("H") + writer.text("i") + writer.finish(answer))
    added = [(e["output_index"], e["item"]["type"]) for e in events if e["type"] == "response.output_item.added"]
    assert added == [(0, "reasoning"), (1, "message"), (2, "function_call")]
    done = [(e["output_index"], e["item"]["type"]) for e in events if e["type"] == "response.output_item.done"]
    assert done == added
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    final = events[-1]
    assert final["type"] == "response.completed" and final["response"]["model"] == "answered"
    assert [item["type"] for item in final["response"]["output"]] == ["reasoning", "message", "function_call"]
    assert final["response"]["output"][1]["content"][0]["text"] == "Hi"
    assert final["response"]["usage"]["total_tokens"] == 7


def test_writer_ends_a_length_limited_answer_as_incomplete_and_a_failure_as_failed() -> None:
    writer = ResponsesWriter("m")
    cut = LLMResponse(choices=[Choice(Message("Hal"), "length")], model="m", usage=Usage(1, 1, 2))
    events = _written(writer.preamble() + writer.text("Hal") + writer.finish(cut))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert events[-1]["response"]["output"][0]["status"] == "incomplete"
    writer = ResponsesWriter("m")
    events = _written(writer.preamble() + writer.text("Hal") + writer.error(Failure(502, "api_error", "api_error", "cut")))
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert events[-2]["error"] == {"type": "api_error", "code": "server_error", "message": "cut"}
    assert all(e["type"] not in ("response.completed", "response.incomplete", "response.output_item.done") for e in events)


# ── custom (freeform) tools, carried as function tools ──────────────────

PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+Hello, "wörld"\n*** End Patch'
GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\nend_patch: "*** End Patch" LF?'
APPLY_PATCH = {
    "type": "custom", "name": "apply_patch", "description": "Edit files with a patch.",
    "format": {"type": "grammar", "syntax": "lark", "definition": GRAMMAR},
}


def _provider_tool(body: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """The description and parameter schema of the tool `name` in a provider request, whatever its wire."""
    for tool in body["tools"]:
        if tool.get("function", tool).get("name") == name:
            declared = tool.get("function", tool)
            return declared["description"], declared.get("parameters", declared.get("input_schema"))
    raise AssertionError(f"no tool {name!r} in {body['tools']}")


def _provider_turn(body: dict[str, Any]) -> tuple[tuple[str, str, Any], tuple[str, str]]:
    """The (id, name, arguments) of the one tool call in a provider request's history, and the
    (call id, text) of its result: the chat wire's assistant tool_calls and tool message, Anthropic's
    tool_use and tool_result blocks, or the Responses wire's function_call and function_call_output."""
    if "input" in body:
        items = body["input"]
        call = next(item for item in items if item.get("type") == "function_call")
        output = next(item for item in items if item.get("type") == "function_call_output")
        return (call["call_id"], call["name"], json.loads(call["arguments"])), (output["call_id"], output["output"])
    messages = body["messages"]
    if "system" in body or any(isinstance(m["content"], list) and m["content"] and "tool_use_id" in m["content"][0] for m in messages):
        blocks = [block for m in messages if isinstance(m["content"], list) for block in m["content"]]
        use = next(block for block in blocks if block["type"] == "tool_use")
        result = next(block for block in blocks if block["type"] == "tool_result")
        content = result["content"]
        text = content if isinstance(content, str) else "".join(part["text"] for part in content)
        return (use["id"], use["name"], use["input"]), (result["tool_use_id"], text)
    assistant = next(m for m in messages if m.get("tool_calls"))
    [call] = assistant["tool_calls"]
    tool = next(m for m in messages if m["role"] == "tool")
    return (call["id"], call["function"]["name"], json.loads(call["function"]["arguments"])), (tool["tool_call_id"], tool["content"])


@pytest.mark.parametrize("model", ["chat", "claude", "responses"])
def test_sdk_custom_tool_round_trip(client: openai.OpenAI, fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text="Patching.", tool_calls=[ToolCallSpec("apply_patch", json.dumps({"input": PATCH}), id="call_p")]))
    events = list(client.responses.create(model=model, input="add hello.txt", tools=[APPLY_PATCH], stream=True))  # type: ignore[list-item]
    # The provider was offered a function tool with one required string parameter, told it is freeform.
    description, parameters = _provider_tool(fake.requests[-1].body, "apply_patch")
    assert parameters["properties"] == {"input": {"type": "string", "description": parameters["properties"]["input"]["description"]}}
    assert parameters["required"] == ["input"]
    assert description.startswith("Edit files with a patch.") and "freeform" in description and GRAMMAR in description
    # The client sees a custom tool call, streamed with its own events.
    types = [e.type for e in events]
    assert types[-6:] == [
        "response.output_item.done",  # the message
        "response.output_item.added", "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done",
        "response.output_item.done", "response.completed",
    ]
    assert "response.function_call_arguments.delta" not in types
    added = events[-5]
    assert added.type == "response.output_item.added" and added.item.type == "custom_tool_call" and added.item.input == ""
    delta, done = events[-4], events[-3]
    assert delta.type == "response.custom_tool_call_input.delta" and delta.delta == PATCH
    assert done.type == "response.custom_tool_call_input.done" and done.input == PATCH and done.item_id == added.item.id
    final = events[-1].response  # type: ignore[union-attr]
    assert [item.type for item in final.output] == ["message", "custom_tool_call"]
    call = final.output[1]
    assert call.type == "custom_tool_call" and (call.call_id, call.name, call.input) == ("call_p", "apply_patch", PATCH)
    assert call.id is not None and call.id.startswith("ctc_")
    assert final.tools[0].type == "custom"  # the tool is echoed as the client declared it
    # The client sends the call and its output back; the provider sees a tool call and its result.
    fake.enqueue(Reply(text="Done."))
    history: list[Any] = [{"role": "user", "content": "add hello.txt"}, *[item.model_dump(exclude_none=True) for item in final.output]]
    history.append({"type": "custom_tool_call_output", "call_id": "call_p", "output": "Success. Updated: A hello.txt"})
    second = client.responses.create(model=model, input=history, tools=[APPLY_PATCH])  # type: ignore[list-item]
    assert second.output_text == "Done."
    (call_id, name, arguments), (result_id, result) = _provider_turn(fake.requests[-1].body)
    assert (call_id, name, arguments) == ("call_p", "apply_patch", {"input": PATCH})
    assert (result_id, result) == ("call_p", "Success. Updated: A hello.txt")


@pytest.mark.parametrize("model", ["chat", "claude"])
def test_sdk_plain_custom_tool_call_beside_a_function_call(client: openai.OpenAI, fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(tool_calls=[
        ToolCallSpec("weather", '{"city": "Oslo"}', id="call_w"),
        ToolCallSpec("apply_patch", json.dumps({"input": PATCH}), id="call_p"),
    ]))
    response = client.responses.create(model=model, input="go", tools=[WEATHER, {"type": "custom", "name": "apply_patch"}])  # type: ignore[list-item]
    assert [item.type for item in response.output] == ["function_call", "custom_tool_call"]
    weather, patch = response.output
    assert weather.type == "function_call" and weather.arguments == '{"city": "Oslo"}'
    assert patch.type == "custom_tool_call" and (patch.call_id, patch.name, patch.input) == ("call_p", "apply_patch", PATCH)
    assert response.model_dump()["output"][1]["status"] == "completed"
    description, parameters = _provider_tool(fake.requests[-1].body, "apply_patch")
    assert "freeform" in description and "grammar" not in description  # no format: unconstrained text
    assert parameters["required"] == ["input"]


def test_arguments_that_are_not_an_input_string_pass_as_the_raw_input(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("apply_patch", PATCH, id="call_raw"), ToolCallSpec("apply_patch", '{"patch": "x"}', id="call_obj")]))
    response = _post(gateway, {"model": "chat", "input": "go", "tools": [APPLY_PATCH], "stream": True})
    assert response.status_code == 200, response.text
    done = [e for e in _events(response.text) if e["type"] == "response.custom_tool_call_input.done"]
    assert [e["input"] for e in done] == [PATCH, '{"patch": "x"}']
    final = _events(response.text)[-1]["response"]
    assert [(item["call_id"], item["input"]) for item in final["output"]] == [("call_raw", PATCH), ("call_obj", '{"patch": "x"}')]


def test_custom_tools_map_both_ways() -> None:
    call = parse_responses({"model": "m", "input": "hi", "tools": [{"type": "web_search"}, APPLY_PATCH, {"type": "custom", "name": "note", "format": {"type": "text"}}]})
    assert call.tools is not None and [tool["function"]["name"] for tool in call.tools] == ["apply_patch", "note"]
    schema = {
        "type": "object", "properties": {"input": {"type": "string", "description": "The tool's whole freeform input, verbatim (not JSON)."}},
        "required": ["input"], "additionalProperties": False,
    }
    freeform = "This tool takes freeform text, not JSON fields: pass the whole input, verbatim, as the string parameter `input`."
    assert call.tools[0] == {"type": "function", "function": {
        "name": "apply_patch", "parameters": schema,
        "description": f"Edit files with a patch.\n\n{freeform}\n\nThe input must match this lark grammar:\n{GRAMMAR}",
    }}
    assert call.tools[1]["function"]["description"] == freeform
    assert call.echo["tools"] == [APPLY_PATCH, {"type": "custom", "name": "note", "format": {"type": "text"}}]
    # A huge grammar is cut, and says so.
    huge = parse_responses({"model": "m", "input": "hi", "tools": [{**APPLY_PATCH, "format": {"type": "grammar", "syntax": "regex", "definition": "a" * 20000}}]})
    assert huge.tools is not None
    description = huge.tools[0]["function"]["description"]
    assert "this regex grammar:\n" + "a" * custom_tools.GRAMMAR_LIMIT + "\n… (grammar cut at 8000 of 20000 characters)" in description
    # The client's custom_tool_call and its output → an assistant tool call and a tool message.
    assert input_history([
        {"role": "user", "content": "go"},
        {"type": "custom_tool_call", "id": "ctc_1", "status": "completed", "call_id": "c1", "name": "apply_patch", "input": PATCH},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "ok"}]},
    ]) == [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "apply_patch", "arguments": json.dumps({"input": PATCH}, ensure_ascii=False)}},
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    # The model's call of it → a custom_tool_call item; another tool's call stays a function_call.
    writer = ResponsesWriter("m", echo=call.echo)
    calls = [ToolCall("c1", FunctionCall("apply_patch", custom_tools.call_arguments(PATCH))), ToolCall("c2", FunctionCall("other", '{"input": "x"}'))]
    output = writer.completion(LLMResponse(choices=[Choice(Message(None, tool_calls=calls), "tool_calls")], model="m"))["output"]
    assert [{k: v for k, v in item.items() if k != "id"} for item in output] == [
        {"type": "custom_tool_call", "status": "completed", "call_id": "c1", "name": "apply_patch", "input": PATCH},
        {"type": "function_call", "status": "completed", "call_id": "c2", "name": "other", "arguments": '{"input": "x"}'},
    ]
    # The argument text, both ways: the input string of a JSON object that has one, else the text as sent.
    for text in (PATCH, "", '{"input": 1}', "[]"):
        assert custom_tools.call_input(custom_tools.call_arguments(text)) == text
    assert [custom_tools.call_input(raw) for raw in ('{"input": 1}', "not json", None, '{"input": "a", "x": 2}')] == ['{"input": 1}', "not json", "", "a"]
