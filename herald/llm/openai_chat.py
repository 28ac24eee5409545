"""The OpenAI-compatible chat-completions wire (OpenRouter, OpenAI, vLLM, llama.cpp, Ollama, …)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from herald.errors import BadResponse, IncompleteStream
from herald.llm.accumulate import StreamAccumulator
from herald.llm.fields import fields_of
from herald.llm.guard import RequestGuard
from herald.llm.history import PROVIDER_DATA_KEY
from herald.llm.sink import DeltaSink
from herald.llm.types import (
    Choice,
    FunctionCall,
    LLMResponse,
    Message,
    ToolCall,
    usage_from,
)


class ChatCompletionsWire:
    """Requests, streams and answers in the chat-completions format."""

    mode = "chat_completions"
    supports_stream_options = True

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

    def open_stream(self, client: Any, kwargs: dict[str, Any]) -> Iterable[Any]:
        return client.chat.completions.create(**kwargs)

    def read_stream(
        self, chunks: Iterable[Any], acc: StreamAccumulator, sink: DeltaSink, guard: RequestGuard[Any] | None
    ) -> LLMResponse:
        return read_chat_stream(chunks, acc, sink, guard)

    def request(self, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
        return response_from_completion(client.chat.completions.create(**kwargs))


def _without_replay_data(message: dict[str, Any]) -> dict[str, Any]:
    # Strict servers reject unknown message keys; the replay data is for the other wires.
    if PROVIDER_DATA_KEY not in message:
        return message
    return {k: v for k, v in message.items() if k != PROVIDER_DATA_KEY}


def read_chat_stream(
    chunks: Iterable[Any], acc: StreamAccumulator, sink: DeltaSink, guard: RequestGuard[Any] | None = None
) -> LLMResponse:
    """Accumulate chat-completion chunks into a complete response.

    Raises:
        IncompleteStream: the stream yielded nothing, ended without a finish reason (the
            openai SDK ends a cut connection silently), or carried an error.
    """
    seen_chunk = False
    for chunk in chunks:
        seen_chunk = True
        content = _handle_chunk(chunk, acc, sink)
        if guard is not None:
            guard.touch(content=content)
            if guard.abandoned:
                break
    if not seen_chunk:
        raise IncompleteStream("the stream ended before any data (not an SSE stream, or streaming unsupported)")
    if acc.finish_reason is None:
        raise IncompleteStream("the stream ended without a finish reason (connection cut?)")
    return acc.build()


def _handle_chunk(chunk: Any, acc: StreamAccumulator, sink: DeltaSink) -> bool:
    """Feed one chunk; True when it carried content (resets the idle timer)."""
    fields = fields_of(chunk)
    error = fields.get("error")
    if error:
        raise IncompleteStream(f"the provider sent an error mid-stream: {_error_text(error)}")
    if not acc.id or not acc.model:
        acc.handle_meta(response_id=fields.get("id"), model=fields.get("model"))
    usage = fields.get("usage")
    if usage is not None:
        acc.handle_usage(usage=usage_from(usage))
    content = False
    for choice in fields.get("choices") or ():
        choice_fields = fields_of(choice)
        delta = choice_fields.get("delta")
        if delta is not None:
            content = _handle_delta(fields_of(delta), acc, sink) or content
        finish_reason = choice_fields.get("finish_reason")
        if finish_reason == "error":
            raise IncompleteStream("the provider ended the stream with finish_reason 'error'")
        acc.handle_finish(reason=finish_reason)
    return content


def _handle_delta(delta: Mapping[str, Any] | Any, acc: StreamAccumulator, sink: DeltaSink) -> bool:
    content = False
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        sink.emit(acc.handle_reasoning_delta(text=reasoning))
        content = True
    text = delta.get("content")
    if isinstance(text, str) and text:
        sink.emit(acc.handle_text_delta(text=text))
        content = True
    for fragment in delta.get("tool_calls") or ():
        sink.close_text()
        call = fields_of(fragment)
        function = fields_of(call.get("function"))
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


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(getattr(error, "message", None) or error)


def response_from_completion(completion: Any) -> LLMResponse:
    """Read a non-streaming `ChatCompletion` (or anything shaped like one) into `LLMResponse`.

    Raises:
        BadResponse: it is not a completion (e.g. an HTML page the SDK handed back as text).
    """
    if isinstance(completion, LLMResponse):
        return completion
    choices = getattr(completion, "choices", None)
    if not choices:
        raise BadResponse(f"the provider's answer is not a chat completion: {_snippet(completion)}")
    choice = choices[0]
    message = getattr(choice, "message", None)
    reasoning = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
    tool_calls = [
        ToolCall(
            id=getattr(call, "id", None) or f"call_{position}",
            function=FunctionCall(call.function.name or "", call.function.arguments or ""),
        )
        for position, call in enumerate(getattr(message, "tool_calls", None) or ())
    ]
    return LLMResponse(
        choices=[
            Choice(
                message=Message(
                    content=getattr(message, "content", None),
                    tool_calls=tool_calls or None,
                    reasoning_content=reasoning if isinstance(reasoning, str) else None,
                ),
                finish_reason=getattr(choice, "finish_reason", None),
            )
        ],
        id=getattr(completion, "id", None) or "",
        model=getattr(completion, "model", None) or "",
        usage=usage_from(getattr(completion, "usage", None)),
        streamed=False,
    )


def _snippet(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")
