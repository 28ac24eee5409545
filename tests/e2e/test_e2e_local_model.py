"""Herald's streaming core against a real model: Gemma 3 270M served by llama-cpp-python.

This server is a good teacher of real-world quirks: it ignores `include_usage`, repeats a
tool call's id and name on every chunk, rejects `"content": null` on an assistant message
with HTTP 500, and (with its default `interrupt_requests`) cuts a running stream when a
second request arrives. Answers are short (small `max_tokens`, temperature 0): these tests
check the transport, not the model's wisdom.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from herald.errors import ProviderError
from herald.local import LocalProvider, LocalServer, LocalServerError
from herald.llm.types import LLMResponse
from run_agent import AIAgent

pytestmark = pytest.mark.e2e  # skipped or failed without the extra: see conftest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 20}},
            "required": ["city"],
        },
    },
}
CALL_WEATHER = {"type": "function", "function": {"name": "get_weather"}}
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}


class Collector:
    """A `stream_delta_callback` that keeps every delta."""

    def __init__(self) -> None:
        self.deltas: list[str] = []

    def __call__(self, text: str) -> None:
        self.deltas.append(text)


def make_agent(provider: LocalProvider, **options: Any) -> tuple[AIAgent, Collector]:
    collector = Collector()
    agent = AIAgent(
        provider.model,
        base_url=provider.base_url,
        skip_context_files=True,
        skip_memory=True,
        quiet_mode=True,
        stream_delta_callback=collector,
        **options,
    )
    return agent, collector


def chat(provider: LocalProvider, messages: list[dict[str, Any]], max_tokens: int = 16, **extra: Any) -> dict[str, Any]:
    return {"model": provider.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0, **extra}


def record_requests(agent: AIAgent) -> list[dict[str, Any]]:
    """Spy on the seam: every kwargs dict the agent passes to `chat.completions.create`."""
    sent: list[dict[str, Any]] = []
    create_client = agent._create_request_openai_client

    def spying_client(*, reason: str = "") -> Any:
        client = create_client(reason=reason)
        create = client.chat.completions.create

        def recording_create(**kwargs: Any) -> Any:
            sent.append(kwargs)
            return create(**kwargs)

        client.chat.completions.create = recording_create
        return client

    agent._create_request_openai_client = spying_client  # type: ignore[method-assign]
    return sent


def assert_streamed_cleanly(response: LLMResponse) -> None:
    assert response.streamed is True
    assert "fallback_reason" not in response.extras
    assert response.state == "complete"


def test_streams_a_short_answer(local_provider: LocalProvider) -> None:
    agent, collector = make_agent(local_provider)
    response = agent._interruptible_streaming_api_call(chat(local_provider, [{"role": "user", "content": "Say hello."}]))
    assert_streamed_cleanly(response)
    assert len(collector.deltas) > 1, "the answer must arrive in pieces, not at once"
    assert response.message.content == "".join(collector.deltas)
    assert response.finish_reason in ("stop", "length")
    assert response.model == local_provider.model


def test_stream_options_are_sent_and_tolerated(local_provider: LocalProvider) -> None:
    agent, _ = make_agent(local_provider)
    sent = record_requests(agent)
    response = agent._interruptible_streaming_api_call(chat(local_provider, [{"role": "user", "content": "Count to three."}]))
    assert_streamed_cleanly(response)
    assert len(sent) == 1, "no retry without stream_options, no fallback request"
    assert sent[0]["stream"] is True
    assert sent[0]["stream_options"] == {"include_usage": True}
    # The server ignores include_usage; Herald's chat handler ends the stream with a usage chunk instead.
    assert response.usage is not None and response.usage.prompt_tokens > 20 and response.usage.completion_tokens >= 1


def test_named_tool_choice_streams_one_well_formed_call(local_provider: LocalProvider) -> None:
    agent, collector = make_agent(local_provider)
    response = agent._interruptible_streaming_api_call(
        chat(local_provider, [QUESTION], max_tokens=64, tools=[WEATHER_TOOL], tool_choice=CALL_WEATHER)
    )
    assert_streamed_cleanly(response)
    assert response.finish_reason == "tool_calls"
    calls = response.message.tool_calls
    assert calls is not None and len(calls) == 1
    # The server repeats the name on every chunk: it must not be concatenated.
    assert calls[0].function.name == "get_weather"
    assert calls[0].id  # the server's id, kept (not doubled either)
    assert calls[0].id.count("call_") == 1
    arguments = json.loads(calls[0].function.arguments)
    assert isinstance(arguments, dict) and isinstance(arguments.get("city"), str)
    assert collector.deltas == [] or "get_weather" not in "".join(collector.deltas)


def tool_turn(content: Any) -> list[dict[str, Any]]:
    """The conversation after one tool call, with the assistant message's content as given."""
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    return [
        QUESTION,
        {"role": "assistant", "content": content, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 degrees C"},
    ]


def test_follow_up_with_empty_content_and_a_tool_result_is_accepted(local_provider: LocalProvider) -> None:
    agent, collector = make_agent(local_provider)
    response = agent._interruptible_streaming_api_call(chat(local_provider, tool_turn(""), tools=[WEATHER_TOOL]))
    assert_streamed_cleanly(response)
    assert response.finish_reason in ("stop", "length")
    assert response.message.content == "".join(collector.deltas)


def test_null_assistant_content_is_a_500_here(local_provider: LocalProvider) -> None:
    """Why the agent loop sends "" rather than null: this server's request schema refuses null."""
    agent, _ = make_agent(local_provider, max_retries=0)
    with pytest.raises(ProviderError) as info:
        agent._interruptible_api_call(chat(local_provider, tool_turn(None), tools=[WEATHER_TOOL]))
    assert info.value.status == 500
    assert "validation error" in info.value.provider_message


def test_the_tool_result_reaches_the_model(local_provider: LocalProvider) -> None:
    """llama-cpp-python's own "gemma" format drops tool turns; Herald's Gemma 3 format keeps them."""
    agent, _ = make_agent(local_provider)
    with_result = agent._interruptible_api_call(chat(local_provider, tool_turn(""), max_tokens=1))
    without = agent._interruptible_api_call(chat(local_provider, [QUESTION], max_tokens=1))
    assert with_result.usage is not None and without.usage is not None
    assert with_result.usage.prompt_tokens > without.usage.prompt_tokens + 10


def test_a_second_request_does_not_cut_a_running_stream(local_provider: LocalProvider) -> None:
    """The server is started with interrupt_requests off: requests queue instead of cutting streams."""
    first_agent, _ = make_agent(local_provider)
    second_agent, _ = make_agent(local_provider)
    first_is_streaming = threading.Event()
    results: dict[str, LLMResponse] = {}

    def first() -> None:
        results["first"] = first_agent._interruptible_streaming_api_call(
            chat(local_provider, [{"role": "user", "content": "Tell me a story."}], max_tokens=48),
            on_first_delta=first_is_streaming.set,
        )

    thread = threading.Thread(target=first)
    thread.start()
    assert first_is_streaming.wait(30)
    results["second"] = second_agent._interruptible_streaming_api_call(chat(local_provider, [{"role": "user", "content": "Hi"}], max_tokens=4))
    thread.join(60)
    for name in ("first", "second"):
        assert_streamed_cleanly(results[name])
        assert results[name].finish_reason in ("stop", "length")


def test_a_corrupt_model_fails_fast_with_the_servers_own_words(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF\x03\x00\x00\x00" + b"not really a model")
    server = LocalServer(corrupt, log_path=tmp_path / "server.log", startup_timeout=60)
    with pytest.raises(LocalServerError, match="exited with code") as info:
        server.start()
    assert "Failed to load model from file" in info.value.log_tail
    assert not server.running


def test_an_overflow_is_learned_from_the_server_and_the_next_turn_fits(local_provider: LocalProvider) -> None:
    """The window unknown to the agent: llama-cpp-python's 400 teaches it, the next turn leaves the huge one out."""
    agent, _ = make_agent(local_provider, persist_session=False, temperature=0.0, max_tokens=16, enabled_toolsets=[])
    assert agent.max_context_tokens is None
    result = agent.run_conversation("lorem ipsum dolor sit amet " * 3000)  # about 20k tokens
    assert result["failed"] and result["error_type"] == "ContextOverflow"
    assert agent.max_context_tokens == local_provider.n_ctx == 4096  # from "maximum context length is 4096 tokens"
    result = agent.run_conversation("What is the capital of France?", conversation_history=result["messages"])
    assert result["completed"], result["error"]
    assert result["final_response"] == "Paris."
