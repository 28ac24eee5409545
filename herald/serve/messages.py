"""`POST /v1/messages`: the Anthropic Messages wire, read into a chat-format `CallRequest` and
written from Herald's typed results (any provider wire can answer it).

Sans-IO: `parse_messages` takes the JSON body; `MessagesWriter` turns events into bytes.
Thinking blocks a client sends back are dropped (their signatures belong to one provider);
`cache_control` and `metadata` are ignored.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Mapping

import msgspec

from herald.llm.types import LLMResponse, Usage
from herald.serve.call import BadRequest, CallRequest, Failure, anthropic_stop_reason, optional_number, require


def parse_messages(body: Any) -> CallRequest:
    """The Messages request as `AsyncClient` arguments (chat-format history and tools).

    Raises:
        BadRequest: a missing or malformed field, named.
    """
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    model = require(body, "model", str, "a string")
    max_tokens = require(body, "max_tokens", int, "a whole number")
    turns = require(body, "messages", list, "an array of messages")
    if not turns:
        raise BadRequest("messages: must not be empty")
    history: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        history.append({"role": "system", "content": _system_text(system)})
    for number, turn in enumerate(turns):
        history.extend(_turn(turn, number))
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise BadRequest("tools: must be an array")
    options: dict[str, Any] = {}
    top_p = optional_number(body, "top_p")
    if top_p is not None:
        options["top_p"] = top_p
    return CallRequest(
        model=model,
        messages=history,
        tools=[_tool(t, n) for n, t in enumerate(tools)] if tools else None,
        max_tokens=max_tokens,
        temperature=optional_number(body, "temperature"),
        options=options,
        stream=bool(body.get("stream")),
    )


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    if isinstance(system, list) and all(isinstance(b, Mapping) and b.get("type") == "text" for b in system):
        return "\n\n".join(str(b.get("text", "")) for b in system)
    raise BadRequest("system: must be a string or an array of text blocks")


def _turn(turn: Any, number: int) -> list[dict[str, Any]]:
    """One Anthropic message as chat messages: tool results become `tool` messages (first, as the
    chat wire wants them right after the assistant's calls), tool uses become `tool_calls`."""
    where = f"messages[{number}]"
    if not isinstance(turn, Mapping) or turn.get("role") not in ("user", "assistant"):
        raise BadRequest(f"{where}: must be an object with role user or assistant")
    role, content = turn["role"], turn.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise BadRequest(f"{where}.content: must be a string or an array of blocks")
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for index, block in enumerate(content):
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image" and role == "user":
            parts.append(_image(block, f"{where}.content[{index}]"))
        elif kind == "tool_use" and role == "assistant":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append({"id": str(block.get("id")), "type": "function", "function": {"name": str(block.get("name")), "arguments": arguments}})
        elif kind == "tool_result" and role == "user":
            results.append({"role": "tool", "tool_call_id": str(block.get("tool_use_id")), "content": _result_text(block)})
        elif kind in ("thinking", "redacted_thinking"):
            continue
        else:
            raise BadRequest(f"{where}.content[{index}]: unsupported block type {kind!r} for role {role}")
    messages = results
    if role == "assistant":
        message: dict[str, Any] = {"role": "assistant", "content": _joined(parts) or None}
        if calls:
            message["tool_calls"] = calls
        messages.append(message)
    elif parts:
        only_text = all(p["type"] == "text" for p in parts)
        messages.append({"role": "user", "content": _joined(parts) if only_text else parts})
    return messages


def _joined(parts: list[dict[str, Any]]) -> str:
    return "".join(p["text"] for p in parts if p["type"] == "text")


def _image(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "base64":
        return {"type": "image_url", "image_url": {"url": f"data:{source.get('media_type')};base64,{source.get('data')}"}}
    if isinstance(source, Mapping) and source.get("type") == "url":
        return {"type": "image_url", "image_url": {"url": str(source.get("url"))}}
    raise BadRequest(f"{where}: an image needs a base64 or url source")


def _result_text(block: Mapping[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        content = "".join(str(b.get("text", "")) for b in content if isinstance(b, Mapping) and b.get("type") == "text")
    text = "" if content is None else str(content)
    return f"Error: {text}" if block.get("is_error") else text


def _tool(tool: Any, number: int) -> dict[str, Any]:
    if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
        raise BadRequest(f"tools[{number}]: must be an object with a name and an input_schema")
    function: dict[str, Any] = {"name": tool["name"], "parameters": tool.get("input_schema") or {"type": "object"}}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def usage_body(usage: Usage | None) -> dict[str, Any]:
    """Anthropic's usage object (its input tokens exclude those read from or written to the cache)."""
    usage = usage or Usage()
    cached, written = usage.cached_tokens or 0, usage.cache_write_tokens or 0
    return {
        "input_tokens": usage.prompt_tokens - cached - written,
        "output_tokens": usage.completion_tokens,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": written,
    }


def error_body(failure: Failure) -> dict[str, Any]:
    """Anthropic's error object."""
    return {"type": "error", "error": {"type": failure.anthropic_type, "message": failure.message}}


def _tool_input(arguments: str) -> Any:
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class MessagesWriter:
    """One Messages response, as JSON or as SSE events.

    Args:
        model: the model `message_start` names (the answering model is known only at the end).
    """

    media_type = "text/event-stream"

    def __init__(self, model: str) -> None:
        self.id = f"msg_{uuid.uuid4().hex[:24]}"
        self.model = model
        self._block = -1
        self._open: str | None = None  # the kind of the open content block

    def completion(self, response: LLMResponse) -> dict[str, Any]:
        """The non-streaming answer."""
        content: list[dict[str, Any]] = []
        if response.message.reasoning_content:
            content.append({"type": "thinking", "thinking": response.message.reasoning_content, "signature": ""})
        if response.message.content:
            content.append({"type": "text", "text": response.message.content})
        for call in response.message.tool_calls or ():
            content.append({"type": "tool_use", "id": call.id, "name": call.function.name, "input": _tool_input(call.function.arguments)})
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": response.model or self.model,
            "content": content,
            "stop_reason": anthropic_stop_reason(response.finish_reason),
            "stop_sequence": None,
            "usage": usage_body(response.usage),
        }

    # ── SSE ─────────────────────────────────────────────────────────────

    def preamble(self) -> bytes:
        message: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return self._event("message_start", {"type": "message_start", "message": message})

    def text(self, text: str) -> bytes:
        start = self._switch("text", {"type": "text", "text": ""})
        return start + self._delta({"type": "text_delta", "text": text})

    def reasoning(self, text: str) -> bytes:
        start = self._switch("thinking", {"type": "thinking", "thinking": "", "signature": ""})
        return start + self._delta({"type": "thinking_delta", "thinking": text})

    def finish(self, response: LLMResponse) -> bytes:
        """Tool-use blocks (known only once the answer is complete), the stop reason, usage, message_stop."""
        if response.model:
            self.model = response.model
        parts = [self._close()]
        for call in response.message.tool_calls or ():
            block = {"type": "tool_use", "id": call.id, "name": call.function.name, "input": {}}
            parts.append(self._switch("tool_use", block))
            parts.append(self._delta({"type": "input_json_delta", "partial_json": call.function.arguments or "{}"}))
            parts.append(self._close())
        usage = usage_body(response.usage)
        delta = {"stop_reason": anthropic_stop_reason(response.finish_reason), "stop_sequence": None}
        parts.append(self._event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        parts.append(self._event("message_stop", {"type": "message_stop"}))
        return b"".join(parts)

    def error(self, failure: Failure) -> bytes:
        """An in-band error: the stream ends without message_delta / message_stop."""
        return self._event("error", error_body(failure))

    @staticmethod
    def keepalive() -> bytes:
        return b": keepalive\n\n"

    def _switch(self, kind: str, block: dict[str, Any]) -> bytes:
        """Open a `kind` block unless one is open (closing another kind first)."""
        if self._open == kind and kind != "tool_use":
            return b""
        closed = self._close()
        self._block += 1
        self._open = kind
        return closed + self._event("content_block_start", {"type": "content_block_start", "index": self._block, "content_block": block})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return self._event("content_block_stop", {"type": "content_block_stop", "index": self._block})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return self._event("content_block_delta", {"type": "content_block_delta", "index": self._block, "delta": delta})

    @staticmethod
    def _event(name: str, data: dict[str, Any]) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n"


__all__ = ["MessagesWriter", "error_body", "parse_messages", "usage_body"]
