"""`POST /v1/chat/completions`: the OpenAI chat wire, read into a `CallRequest` and written from
Herald's typed results (never from a provider's bytes: any provider wire can answer).

Sans-IO: `parse_chat` takes the JSON body; `ChatWriter` turns events into bytes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Mapping

import msgspec

from herald.llm.types import LLMResponse, Usage
from herald.serve.call import BadRequest, CallRequest, Failure, chat_finish_reason, optional_number, require

_ROLES = ("system", "developer", "user", "assistant", "tool")
# Body fields passed on to the provider as they are (the client's sampling choices); the others
# Herald sets itself (model, messages, tools, stream, max_tokens) or cannot carry across wires.
PASSED_ON = ("top_p",)


def parse_chat(body: Any) -> CallRequest:
    """The chat request as `AsyncClient` arguments.

    Raises:
        BadRequest: a missing or malformed field, named.
    """
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    model = require(body, "model", str, "a string")
    messages = require(body, "messages", list, "an array of messages")
    if not messages:
        raise BadRequest("messages: must not be empty")
    history = [_message(m, n) for n, m in enumerate(messages)]
    tools = body.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(_is_tool(t) for t in tools)):
        raise BadRequest('tools: must be an array of {"type": "function", "function": {"name": …}}')
    max_tokens = optional_number(body, "max_completion_tokens", whole=True) or optional_number(body, "max_tokens", whole=True)
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, Mapping):
        raise BadRequest("stream_options: must be an object")
    return CallRequest(
        model=model,
        messages=history,
        tools=list(tools) if tools else None,
        max_tokens=max_tokens,
        temperature=optional_number(body, "temperature"),
        options={k: body[k] for k in PASSED_ON if body.get(k) is not None},
        stream=bool(body.get("stream")),
        include_usage=bool(stream_options.get("include_usage")),
    )


def _message(message: Any, number: int) -> dict[str, Any]:
    if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
        raise BadRequest(f"messages[{number}]: must be an object with a role ({', '.join(_ROLES)})")
    copy = dict(message)
    if copy["role"] == "developer":  # the newer name of the system role; every wire knows "system"
        copy["role"] = "system"
    return copy


def _is_tool(tool: Any) -> bool:
    return isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping) and isinstance(tool["function"].get("name"), str)


def usage_body(usage: Usage | None) -> dict[str, Any]:
    """The chat wire's usage object."""
    usage = usage or Usage()
    body: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.cached_tokens is not None:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    if usage.reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return body


def _tool_calls(response: LLMResponse) -> list[dict[str, Any]]:
    return [
        {"id": call.id, "type": "function", "function": {"name": call.function.name, "arguments": call.function.arguments}}
        for call in response.message.tool_calls or ()
    ]


def error_body(failure: Failure) -> dict[str, Any]:
    """OpenAI's error object."""
    return {"error": {"message": failure.message, "type": failure.openai_type, "param": None, "code": None}}


class ChatWriter:
    """One chat response, as JSON or as SSE chunks.

    Args:
        model: the model the chunks name until the answer says which model answered.
        include_usage: end the stream with a usage chunk whose `choices` is empty.
    """

    media_type = "text/event-stream"

    def __init__(self, model: str, *, include_usage: bool = False) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage

    def completion(self, response: LLMResponse) -> dict[str, Any]:
        """The non-streaming answer."""
        message: dict[str, Any] = {"role": "assistant", "content": response.message.content}
        if response.message.tool_calls:
            message["tool_calls"] = _tool_calls(response)
        if response.message.reasoning_content:
            message["reasoning_content"] = response.message.reasoning_content
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": response.model or self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": chat_finish_reason(response.finish_reason), "logprobs": None}],
            "usage": usage_body(response.usage),
        }

    # ── SSE ─────────────────────────────────────────────────────────────

    def preamble(self) -> bytes:
        return self._chunk({"role": "assistant", "content": ""})

    def text(self, text: str) -> bytes:
        return self._chunk({"content": text})

    def reasoning(self, text: str) -> bytes:
        return self._chunk({"reasoning_content": text})

    def finish(self, response: LLMResponse) -> bytes:
        """Tool calls (they exist only once the answer is complete), the finish reason, usage, [DONE]."""
        if response.model:
            self.model = response.model
        parts = []
        calls = _tool_calls(response)
        if calls:
            parts.append(self._chunk({"tool_calls": [{"index": i, **call} for i, call in enumerate(calls)]}))
        parts.append(self._chunk({}, finish_reason=chat_finish_reason(response.finish_reason)))
        if self.include_usage:
            parts.append(self._event({**self._head(), "choices": [], "usage": usage_body(response.usage)}))
        parts.append(b"data: [DONE]\n\n")
        return b"".join(parts)

    def error(self, failure: Failure) -> bytes:
        """An in-band error: the stream ends without a finish reason or [DONE]."""
        return self._event(error_body(failure))

    @staticmethod
    def keepalive() -> bytes:
        return b": keepalive\n\n"

    def _head(self) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return self._event({**self._head(), "choices": [choice]})

    @staticmethod
    def _event(data: dict[str, Any]) -> bytes:
        return b"data: " + msgspec.json.encode(data) + b"\n\n"


__all__ = ["ChatWriter", "PASSED_ON", "error_body", "parse_chat", "usage_body"]
