"""The OpenAI-compatible chat-completions wire (OpenRouter, OpenAI, vLLM, llama.cpp, Ollama, …)."""

from __future__ import annotations

from typing import Any, ContextManager, Mapping

from herald.errors import BadResponse, IncompleteStream
from herald.llm.accumulate import StreamAccumulator
from herald.llm.fields import plain
from herald.llm import plain as plain_requests
from herald.llm.history import PROVIDER_DATA_KEY
from herald.llm.wire import OnHeaders, PlainSteps, SendPlain
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import closing_events
from herald.llm.types import LLMResponse, usage_from


class ChatCompletionsWire:
    """Requests, streams and answers in the chat-completions format."""

    mode = "chat_completions"
    supports_stream_options = True
    stream_path = "/chat/completions"

    def build_kwargs(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """Request kwargs from chat-format history: it is already native, minus replay data."""
        kwargs: dict[str, Any] = {"model": model, "messages": [_without_replay_data(m) for m in messages]}
        if tools:
            kwargs["tools"] = tools
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        return kwargs

    def stream_kwargs(self, api_kwargs: dict[str, Any], *, stream_options: bool) -> dict[str, Any]:
        kwargs = {**api_kwargs, "stream": True}
        if stream_options:
            kwargs.setdefault("stream_options", {"include_usage": True})
        else:
            kwargs.pop("stream_options", None)
        return kwargs

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: v for k, v in api_kwargs.items() if k not in ("stream", "stream_options")}
        return kwargs

    def reader(self, acc: StreamAccumulator, sink: DeltaSink) -> ChatStreamReader:
        return ChatStreamReader(acc, sink)

    def open_raw(self, client: Any, kwargs: dict[str, Any]) -> Any:
        return open_chat_stream(client, kwargs)

    def open_objects(self, client: Any, kwargs: dict[str, Any]) -> ContextManager[Any]:
        return closing_events(client.chat.completions.create(**kwargs))

    def send_plain(self, client: Any, kwargs: dict[str, Any], *, raw: bool = False) -> Any:
        """The SDK's plain `create`: a completion (a coroutine of one, on an async client); `raw`: its raw response."""
        completions = client.chat.completions
        return (completions.with_raw_response if raw else completions).create(**kwargs)

    def request_steps(self, kwargs: dict[str, Any]) -> PlainSteps:
        return response_from_completion((yield SendPlain(kwargs)))

    def request(self, client: Any, kwargs: dict[str, Any], *, on_headers: OnHeaders | None = None) -> LLMResponse:
        return plain_requests.request(self, client, kwargs, on_headers=on_headers)


def open_chat_stream(client: Any, kwargs: dict[str, Any]) -> Any:
    """The SDK's raw streaming response for a chat completion, as a context manager: `with` on
    an `OpenAI` client, `async with` on an `AsyncOpenAI` one. The request goes out on entry."""
    return client.chat.completions.with_streaming_response.create(**kwargs)


def _without_replay_data(message: dict[str, Any]) -> dict[str, Any]:
    # Strict servers reject unknown message keys; the replay data is for the other wires.
    if PROVIDER_DATA_KEY not in message:
        return message
    return {k: v for k, v in message.items() if k != PROVIDER_DATA_KEY}


class ChatStreamReader:
    """Feeds `chat.completion.chunk` dicts to an accumulator and the sink. No I/O.

    Raises (from `feed`):
        IncompleteStream: an in-band `error` object, or `finish_reason: "error"`.
    """

    def __init__(self, acc: StreamAccumulator, sink: DeltaSink) -> None:
        self.acc = acc
        self.sink = sink

    def feed(self, event: Mapping[str, Any]) -> bool:
        """Apply one chunk; True when it carried content (resets the idle timer)."""
        acc = self.acc
        acc.events_seen = True
        error = event.get("error")
        if error:
            raise IncompleteStream("error_event", error_text(error))
        if not acc.id or not acc.model:
            acc.handle_meta(response_id=event.get("id"), model=event.get("model"))
        usage = event.get("usage")
        if usage:
            acc.handle_usage(usage=usage_from(usage))
        content = False
        for choice in event.get("choices") or ():
            delta = choice.get("delta")
            if delta:
                content = self._delta(delta) or content
            finish_reason = choice.get("finish_reason")
            if finish_reason:
                if finish_reason == "error":
                    raise IncompleteStream("error_finish")
                acc.handle_finish(reason=finish_reason)
        return content

    def finish(self) -> LLMResponse:
        """The answer. Raises `IncompleteStream` if no chunk or no finish reason arrived."""
        return self.acc.complete()

    def _delta(self, delta: Mapping[str, Any]) -> bool:
        acc, sink = self.acc, self.sink
        content = False
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            sink.emit(acc.handle_reasoning_delta(text=reasoning))
            content = True
        text = delta.get("content")
        if text and isinstance(text, str):
            sink.emit(acc.handle_text_delta(text=text))
            content = True
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            sink.close_text()
            for call in tool_calls:
                function = call.get("function") or {}
                sink.emit(
                    acc.handle_tool_call_delta(
                        index=call.get("index"),
                        call_id=call.get("id"),
                        name=function.get("name"),
                        arguments=function.get("arguments"),
                    )
                )
            content = True
        return content


def error_text(error: Any) -> str:
    """The message of an error object of any common shape."""
    if isinstance(error, dict):
        message = error.get("message") or error
        code = error.get("code")
        return f"{code}: {message}" if isinstance(code, str) and code else str(message)
    return str(error)


def response_from_completion(completion: Any) -> LLMResponse:
    """Read a non-streaming `ChatCompletion` (or anything shaped like one) into `LLMResponse`,
    through the stream reader: the message arrives as one whole delta.

    Raises:
        BadResponse: it is not a completion (e.g. an HTML page the SDK handed back as text).
    """
    if isinstance(completion, LLMResponse):
        return completion
    data = plain(completion)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise BadResponse(f"the provider's answer is not a chat completion: {_snippet(completion)}")
    choice = choices[0]
    message = dict(choice.get("message") or {})
    # Whole calls, told apart by position: ids may be missing.
    message["tool_calls"] = [{**call, "index": position} for position, call in enumerate(message.get("tool_calls") or ())]
    acc = StreamAccumulator()
    ChatStreamReader(acc, DeltaSink()).feed({**data, "choices": [{"delta": message, "finish_reason": choice.get("finish_reason")}]})
    return acc.build(streamed=False)


def _snippet(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")


__all__ = ["ChatCompletionsWire", "ChatStreamReader", "open_chat_stream", "response_from_completion"]
