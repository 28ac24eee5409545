"""The official SDKs as clients, real HTTP on both sides: any provider wire answers either endpoint."""

from __future__ import annotations

import anthropic
import openai
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec

from .harness import GATEWAY_KEY, Running, opened

WEATHER_CHAT = {"type": "function", "function": {"name": "weather", "description": "d", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
WEATHER_ANTHROPIC = {"name": "weather", "description": "d", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
PROVIDER_MODELS = {"chat": "gpt-fake", "claude": "claude-fake", "responses": "gpt-resp"}


def _openai(gateway: Running) -> openai.OpenAI:
    return opened(openai.OpenAI(base_url=gateway.base_url, api_key=GATEWAY_KEY, max_retries=0, timeout=20))


def _anthropic(gateway: Running) -> anthropic.Anthropic:
    return opened(anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0, timeout=20))


@pytest.mark.parametrize("model", ["chat", "claude", "responses"])
def test_openai_sdk_stream_with_usage(fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text="Hello from the gateway", usage=(11, 4)))
    chunks = list(_openai(gateway).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
    ))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the gateway"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (11, 4)
    assert chunks[-1].model == PROVIDER_MODELS[model]  # the provider model that answered, not the public name
    assert fake.requests[-1].body["model"] == PROVIDER_MODELS[model]


@pytest.mark.parametrize("model", ["chat", "claude"])
def test_openai_sdk_plain_with_tools(fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("weather", '{"city": "Oslo"}', id="call_w")]))
    completion = _openai(gateway).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "weather in Oslo?"}], tools=[WEATHER_CHAT]  # type: ignore[list-item]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert (call.id, call.function.name, call.function.arguments) == ("call_w", "weather", '{"city": "Oslo"}')
    assert completion.model == PROVIDER_MODELS[model]
    sent = fake.requests[-1].body
    assert "weather" in str(sent["tools"])


@pytest.mark.parametrize("model", ["chat", "claude", "responses"])
def test_anthropic_sdk_stream(fake: FakeProvider, gateway: Running, model: str) -> None:
    fake.enqueue(Reply(text="Bonjour tout le monde", usage=(9, 6)))
    with _anthropic(gateway).messages.stream(
        model=model, max_tokens=100, system="be kind", messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == "Bonjour tout le monde"
    assert message.stop_reason == "end_turn"
    assert message.model == PROVIDER_MODELS[model]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (9, 6)


@pytest.mark.parametrize("model", ["chat", "claude"])
def test_anthropic_sdk_tool_use_round_trip(fake: FakeProvider, gateway: Running, model: str) -> None:
    client = _anthropic(gateway)
    fake.enqueue(Reply(text="Looking.", tool_calls=[ToolCallSpec("weather", '{"city": "Oslo"}', id="tu_1")]))
    with client.messages.stream(
        model=model, max_tokens=100, tools=[WEATHER_ANTHROPIC], messages=[{"role": "user", "content": "weather?"}]  # type: ignore[list-item]
    ) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    tool_use = next(b for b in first.content if b.type == "tool_use")
    assert (tool_use.id, tool_use.name, tool_use.input) == ("tu_1", "weather", {"city": "Oslo"})
    fake.enqueue(Reply(text="Rain."))
    second = client.messages.create(
        model=model, max_tokens=100, tools=[WEATHER_ANTHROPIC],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "rain"}]},
        ],
    )
    assert second.content[0].type == "text" and second.content[0].text == "Rain."
    assert second.stop_reason == "end_turn"
    assert "rain" in str(fake.requests[-1].body["messages"])


def test_length_maps_to_max_tokens(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(Reply(text="cut sh", finish_reason="length"))
    message = _anthropic(gateway).messages.create(model="chat", max_tokens=3, messages=[{"role": "user", "content": "x"}])
    assert message.stop_reason == "max_tokens"
    fake.enqueue(Reply(text="cut sh", finish_reason="max_tokens"))
    completion = _openai(gateway).chat.completions.create(model="claude", max_tokens=3, messages=[{"role": "user", "content": "x"}])
    assert completion.choices[0].finish_reason == "length"


def test_models_lists_the_public_names(gateway: Running) -> None:
    assert [m.id for m in _openai(gateway).models.list()] == ["chat", "claude", "responses", "failover", "chat-continues", "claude-continues"]


def test_an_unknown_model_is_404_in_each_wire(gateway: Running) -> None:
    with pytest.raises(openai.NotFoundError, match="not served here"):
        _openai(gateway).chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.NotFoundError) as caught:
        _anthropic(gateway).messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]


def test_a_bad_request_is_400_naming_the_field(gateway: Running) -> None:
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        _anthropic(gateway).messages.create(model="chat", messages=[{"role": "user", "content": "x"}], max_tokens="x")  # type: ignore[arg-type]
