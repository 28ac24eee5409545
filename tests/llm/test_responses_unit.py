"""The Responses wire with small fake events (plain SimpleNamespaces, no mocks of behaviour)."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import httpx2
import openai
import pytest

from herald.errors import BadResponse, IncompleteStream, ProviderUnreachable
from herald.llm.accumulate import StreamAccumulator
from herald.llm.endpoint import detect_api_mode
from herald.llm.history import PROVIDER_DATA_KEY, to_responses_input
from herald.llm.responses import ResponsesWire, response_from_responses, run_responses_stream
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import read_objects


# ── fakes ───────────────────────────────────────────────────────────────


class FakeStream:
    """What `responses.stream(...)` returns: a context manager that iterates events."""

    def __init__(self, events: list[Any], final: Any = None) -> None:
        self.events = events
        self.final = final
        self.closed = False

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def __iter__(self) -> Any:
        return iter(self.events)

    def get_final_response(self) -> Any:
        return self.final


class FakeResponses:
    def __init__(self, stream: FakeStream | None = None, create: Any = None) -> None:
        self._stream = stream
        self._create = create
        self.calls: list[dict[str, Any]] = []

    def stream(self, **kwargs: Any) -> FakeStream:
        self.calls.append({"stream()": True, **kwargs})
        assert self._stream is not None
        return self._stream

    def create(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        result = self._create(kwargs) if callable(self._create) else self._create
        if isinstance(result, Exception):
            raise result
        return result


def client(stream: FakeStream | None = None, create: Any = None) -> NS:
    return NS(responses=FakeResponses(stream, create))


def sink(texts: list[str], reasoning: list[str] | None = None) -> DeltaSink:
    return DeltaSink(text_callbacks=[texts.append], reasoning_callback=(reasoning.append if reasoning is not None else None))


def text(delta: str) -> NS:
    return NS(type="response.output_text.delta", delta=delta, output_index=1, content_index=0)


def message_item(body: str) -> NS:
    return NS(type="message", content=[NS(type="output_text", text=body)])


def call_item(call_id: str = "call_1", name: str = "ls", arguments: str = '{"a": 1}') -> NS:
    return NS(type="function_call", call_id=call_id, name=name, arguments=arguments, id="fc_1")


def completed(output: list[Any], usage: Any = None, status: str = "completed") -> NS:
    response = NS(id="resp_1", model="gpt-x", status=status, output=output, usage=usage)
    return NS(type=f"response.{status}", response=response)


USAGE = NS(input_tokens=12, output_tokens=7, total_tokens=19, output_tokens_details=NS(reasoning_tokens=3))


def read(events: list[Any], final: Any = None, deltas: list[str] | None = None, reasoning: list[str] | None = None) -> Any:
    """The object path: the double's objects become the dicts the reader reads."""
    wire = ResponsesWire()
    reader = wire.reader(StreamAccumulator(), sink(deltas if deltas is not None else [], reasoning))
    with wire.open_objects(client(FakeStream(events, final)), {}) as objects:
        return read_objects(objects, reader, None)


# ── streaming ───────────────────────────────────────────────────────────


class TestStreaming:
    def test_text_reasoning_and_usage(self) -> None:
        deltas: list[str] = []
        reasoning: list[str] = []
        events = [
            NS(type="response.created", response=NS(id="resp_1", model="gpt-x")),
            NS(type="response.reasoning_summary_text.delta", delta="Think", item_id="rs", summary_index=0),
            NS(type="response.reasoning_summary_text.delta", delta="ing", item_id="rs", summary_index=0),
            NS(type="response.reasoning_summary_text.delta", delta="More", item_id="rs", summary_index=1),
            text("Hel"),
            text("lo"),
            completed(
                [NS(type="reasoning", summary=[NS(text="Thinking"), NS(text="More")]), message_item("Hello")],
                usage=USAGE,
            ),
        ]
        response = read(events, deltas=deltas, reasoning=reasoning)
        assert deltas == ["Hel", "lo"]
        assert reasoning == ["Think", "ing", "\n\nMore"]
        assert response.message.content == "Hello"
        assert response.message.reasoning_content == "Thinking\n\nMore"
        assert response.finish_reason == "stop"
        assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.reasoning_tokens) == (12, 7, 3)
        assert response.id == "resp_1" and response.streamed

    def test_reasoning_text_deltas_count_as_reasoning(self) -> None:
        reasoning: list[str] = []
        events = [NS(type="response.reasoning_text.delta", delta="hmm"), text("ok"), completed([message_item("ok")])]
        response = read(events, reasoning=reasoning)
        assert reasoning == ["hmm"]
        assert response.message.reasoning_content == "hmm"

    def test_function_call_suppresses_later_text(self) -> None:
        deltas: list[str] = []
        events = [
            text("Let me "),
            NS(type="response.output_item.added", output_index=2, item=call_item(arguments="")),
            NS(type="response.function_call_arguments.delta", output_index=2, delta='{"a":'),
            NS(type="response.function_call_arguments.delta", output_index=2, delta=" 1}"),
            text("check"),
            NS(type="response.output_item.done", output_index=2, item=call_item(arguments='{"a": 1}')),
            completed([message_item("Let me check"), call_item(arguments='{"a": 1}')]),
        ]
        response = read(events, deltas=deltas)
        assert deltas == ["Let me "]
        assert response.finish_reason == "tool_calls"
        [call] = response.message.tool_calls
        assert (call.id, call.function.name, call.function.arguments) == ("call_1", "ls", '{"a": 1}')

    def test_empty_final_output_is_rebuilt_from_done_items(self) -> None:
        events = [
            text("Hi"),
            NS(type="response.output_item.done", output_index=0, item=message_item("Hi there")),
            NS(type="response.output_item.done", output_index=1, item=call_item()),
            completed([], usage=USAGE),
        ]
        response = read(events)
        assert response.message.content == "Hi there"
        assert response.message.tool_calls[0].function.arguments == '{"a": 1}'
        assert response.finish_reason == "tool_calls"
        assert response.usage.prompt_tokens == 12

    def test_empty_final_output_without_done_items_uses_streamed_text(self) -> None:
        response = read([text("streamed "), text("only"), completed([])])
        assert response.message.content == "streamed only"
        assert response.finish_reason == "stop"

    def test_completed_without_response_uses_get_final_response(self) -> None:
        # The SDK's own snapshot, as the seed contract's double provides it.
        final = NS(output=[message_item("from final")], status="completed")
        response = read([text("x"), NS(type="response.completed", delta="")], final=final)
        assert response.message.content == "from final"

    @pytest.mark.parametrize(
        "terminal",
        [
            NS(type="response.incomplete", response=NS(incomplete_details=NS(reason="max_output_tokens"), output=[])),
            NS(type="response.failed", response=NS(error=NS(code="server_error", message="boom"), output=[])),
            NS(type="error", code="server_error", message="overloaded"),
        ],
        ids=["incomplete", "failed", "error-event"],
    )
    def test_failure_terminals_are_stream_failures(self, terminal: NS) -> None:
        with pytest.raises(IncompleteStream):
            read([text("partial"), terminal])

    def test_stream_without_terminal_event_fails(self) -> None:
        with pytest.raises(IncompleteStream, match="terminal"):
            read([text("cut off")])

    def test_empty_stream_fails(self) -> None:
        with pytest.raises(IncompleteStream, match="no event arrived") as caught:
            read([])
        assert caught.value.reason == "no_data"

    def test_run_responses_stream_drops_stream_argument(self) -> None:
        fake = client(FakeStream([text("a"), completed([message_item("a")])]))
        deltas: list[str] = []
        response = run_responses_stream(fake, {"model": "m", "input": [], "stream": True}, sink(deltas))
        assert deltas == ["a"] and response.message.content == "a"
        assert fake.responses.calls == [{"stream()": True, "model": "m", "input": []}]

    def test_encrypted_reasoning_is_kept_for_replay(self) -> None:
        item = NS(type="reasoning", id="rs_9", summary=[NS(type="summary_text", text="why")], encrypted_content="enc", status=None)
        response = read([completed([item, message_item("ok")])])
        data = response.message.provider_data
        assert data == {"responses": {"reasoning_items": [{"type": "reasoning", "id": "rs_9", "summary": [{"type": "summary_text", "text": "why"}], "encrypted_content": "enc"}]}}
        # …and it goes back as input when the assistant message is replayed.
        _, items = to_responses_input([{"role": "assistant", "content": "ok", PROVIDER_DATA_KEY: data}])
        assert items[0]["id"] == "rs_9" and items[0]["encrypted_content"] == "enc"


# ── the fallback request ────────────────────────────────────────────────


def _status_error(status: int, message: str) -> openai.APIStatusError:
    request = httpx2.Request("POST", "http://x/v1/responses")
    response = httpx2.Response(status, request=request, json={"error": {"message": message}})
    return openai.BadRequestError(message, response=response, body={"error": {"message": message}}) if status == 400 else openai.APIStatusError(message, response=response, body=None)


class TestFallbackRequest:
    def test_buffered_stream_is_the_default_fallback(self) -> None:
        fake = client(create=[text("Hi"), completed([message_item("Hi")], usage=USAGE)])
        response = ResponsesWire().request(fake, {"model": "m", "input": []})
        assert fake.responses.calls == [{"model": "m", "input": [], "stream": True}]
        assert response.message.content == "Hi" and not response.streamed

    def test_buffered_incomplete_is_a_truncated_answer(self) -> None:
        terminal = NS(
            type="response.incomplete",
            response=NS(status="incomplete", incomplete_details=NS(reason="max_output_tokens"), output=[message_item("Hal")]),
        )
        response = ResponsesWire().request(client(create=[text("Hal"), terminal]), {"model": "m"})
        assert response.finish_reason == "length" and response.state == "incomplete"
        assert response.message.content == "Hal"

    def test_buffered_cut_is_retryable(self) -> None:
        with pytest.raises(ProviderUnreachable):
            ResponsesWire().request(client(create=[text("Hal")]), {"model": "m"})

    def test_buffered_failed_is_a_bad_response(self) -> None:
        failed = NS(type="response.failed", response=NS(error=NS(message="nope")))
        with pytest.raises(BadResponse, match="nope"):
            ResponsesWire().request(client(create=[failed]), {"model": "m"})

    def test_auto_falls_back_to_plain_when_streaming_is_refused(self) -> None:
        plain = NS(id="r", model="m", status="completed", output=[message_item("plain")], usage=None)

        def create(kwargs: dict[str, Any]) -> Any:
            return _status_error(400, "Streaming is not supported") if kwargs.get("stream") else plain

        fake = client(create=create)
        response = ResponsesWire().request(fake, {"model": "m"})
        assert [c.get("stream") for c in fake.responses.calls] == [True, None]
        assert response.message.content == "plain"

    def test_buffered_only_does_not_try_plain(self) -> None:
        fake = client(create=lambda kwargs: _status_error(400, "Streaming is not supported"))
        with pytest.raises(openai.APIStatusError):
            ResponsesWire(fallback="buffered").request(fake, {"model": "m"})
        assert len(fake.responses.calls) == 1

    def test_server_errors_are_not_answered_with_a_plain_request(self) -> None:
        fake = client(create=lambda kwargs: _status_error(500, "boom"))
        with pytest.raises(openai.APIStatusError):
            ResponsesWire().request(fake, {"model": "m"})
        assert len(fake.responses.calls) == 1  # the caller's retry policy decides, not the wire

    def test_plain_mode(self) -> None:
        plain = NS(id="r", model="m", status="completed", output=[call_item()], usage=USAGE)
        fake = client(create=plain)
        response = ResponsesWire(fallback="plain").request(fake, {"model": "m", "stream": True})
        assert fake.responses.calls == [{"model": "m"}]
        assert response.finish_reason == "tool_calls"

    def test_not_a_response(self) -> None:
        with pytest.raises(BadResponse):
            response_from_responses("<html>502 Bad Gateway</html>")


def test_stream_kwargs_drop_chat_only_arguments() -> None:
    wire = ResponsesWire()
    assert wire.supports_stream_options is False
    kwargs = {"model": "m", "input": [], "stream": True, "stream_options": {"include_usage": True}}
    assert wire.stream_kwargs(kwargs, stream_options=True) == {"model": "m", "input": []}


@pytest.mark.parametrize(
    ("url", "mode"),
    [
        ("https://chatgpt.com/backend-api/codex", "codex_responses"),
        ("https://proxy.example/v1/responses", "codex_responses"),
        ("https://api.openai.com/v1", "chat_completions"),
        ("https://openrouter.ai/api/v1", "chat_completions"),
    ],
)
def test_mode_detection(url: str, mode: str) -> None:
    assert detect_api_mode(url) == mode
