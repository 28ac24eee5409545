"""`POST /v1/responses`: the OpenAI Responses wire (what current Codex CLI releases speak), read
into a chat-format `CallRequest` and written from Herald's typed results (any provider wire can
answer it).

Sans-IO: `parse_responses` takes the JSON body; `ResponsesWriter` turns events into bytes.

The gateway keeps nothing: `store` is ignored, and `previous_response_id`, `conversation` and
`item_reference` items are refused (send the whole conversation as `input`). Reasoning items a
client sends back are dropped (they belong to one provider, as Anthropic's thinking blocks do on
/v1/messages). Hosted tools (`web_search`, `file_search`, …, which OpenAI's own servers run) are
dropped from `tools`: no provider behind the gateway runs them. `custom` (freeform) tools travel
as function tools with one string parameter (`custom_tools`) and come back as `custom_tool_call`
items. Other tools a client runs itself but no wire carries (`local_shell`, …) are refused with a
400 naming the type.
`tool_choice`, `parallel_tool_calls`, `reasoning`, `text`, `include` are not passed on: like the
other endpoints' fields of that kind, they do not carry across wires yet.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Mapping

import msgspec

from herald.llm.types import LLMResponse, ToolCall, Usage
from herald.serve import custom_tools
from herald.serve.call import BadRequest, CallRequest, Failure, optional_number, require

# Tools OpenAI's servers run (dated variants included: web_search_preview_2025_03_11, …).
HOSTED_TOOLS = ("web_search", "file_search", "code_interpreter", "computer_use", "image_generation", "mcp")
_STATELESS = "the gateway is stateless and keeps no responses; send the whole conversation in input"
_ROLES = ("user", "assistant", "system", "developer")
_TEXT_PARTS = ("input_text", "output_text", "text")
_OUTPUTS = ("function_call_output", "custom_tool_call_output")


def parse_responses(body: Any) -> CallRequest:
    """The Responses request as `AsyncClient` arguments (chat-format history and tools).

    Raises:
        BadRequest: a missing, malformed or unsupported field, named.
    """
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    for key in ("previous_response_id", "conversation"):
        if body.get(key) is not None:
            raise BadRequest(f"{key}: not supported: {_STATELESS}")
    model = require(body, "model", str, "a string")
    history: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise BadRequest("instructions: must be a string")
    if instructions:
        history.append({"role": "system", "content": instructions})
    history.extend(input_history(require(body, "input", (str, list), "a string or an array of items")))
    tools, chat_tools = _tools(body.get("tools"))
    max_tokens = optional_number(body, "max_output_tokens", whole=True)
    temperature = optional_number(body, "temperature")
    top_p = optional_number(body, "top_p")
    return CallRequest(
        model=model,
        messages=history,
        tools=chat_tools or None,
        max_tokens=max_tokens,
        temperature=temperature,
        options={"top_p": top_p} if top_p is not None else {},
        stream=bool(body.get("stream")),
        echo={"tools": tools, "temperature": temperature, "top_p": top_p, "max_output_tokens": max_tokens},
    )


def input_history(value: str | list[Any]) -> list[dict[str, Any]]:
    """Responses `input` (a string or a list of items) → chat-format history: the inverse of
    `herald.llm.history.to_responses_input`. A `function_call` joins the assistant message before
    it (or starts one), as the chat wire wants a turn's calls on one assistant message. Images in
    a `function_call_output` follow the turn's tool results as a user message (tool messages
    carry text only on the chat wire). A `custom_tool_call` is the function call its tool became
    (arguments `{"input": ...}`), and its `custom_tool_call_output` a function call's result.

    Raises:
        BadRequest: an item of a kind the gateway cannot carry, or malformed, named by its index.
    """
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not value:
        raise BadRequest("input: must not be empty")
    history: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []  # from the tool results of this turn, sent once they end
    for number, item in enumerate(value):
        where = f"input[{number}]"
        if not isinstance(item, Mapping):
            raise BadRequest(f"{where}: must be an object")
        kind = item.get("type", "message" if "role" in item else None)
        if images and kind not in _OUTPUTS:
            history.append({"role": "user", "content": images})
            images = []
        if kind == "message":
            history.append(_message(item, where))
        elif kind == "function_call":
            _add_call(history, item, where)
        elif kind == "custom_tool_call":
            text = item.get("input")
            if not isinstance(text, str):
                raise BadRequest(f"{where}.input: required (a string)")
            _add_call(history, {**item, "arguments": custom_tools.call_arguments(text)}, where)
        elif kind in _OUTPUTS:
            call_id = _string(item, "call_id", where)
            text, pictures = _output(item.get("output"), where)
            history.append({"role": "tool", "tool_call_id": call_id, "content": text})
            images.extend(pictures)
        elif kind == "reasoning":
            continue
        elif kind == "item_reference":
            raise BadRequest(f"{where}: item_reference is not supported: {_STATELESS}")
        else:
            raise BadRequest(
                f"{where}: unsupported item type {kind!r} (supported: message, function_call, function_call_output, "
                "custom_tool_call, custom_tool_call_output, reasoning)"
            )
    if images:
        history.append({"role": "user", "content": images})
    if not history:
        raise BadRequest("input: holds no message (reasoning items are dropped)")
    return history


def _message(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in _ROLES:
        raise BadRequest(f"{where}: a message needs a role ({', '.join(_ROLES)})")
    content = item.get("content")
    chat_role = "system" if role == "developer" else role  # the newer name of the system role
    if isinstance(content, str):
        return {"role": chat_role, "content": content}
    if not isinstance(content, list):
        raise BadRequest(f"{where}.content: must be a string or an array of parts")
    parts = [_part(part, role, f"{where}.content[{index}]") for index, part in enumerate(content)]
    if all(part["type"] == "text" for part in parts):
        return {"role": chat_role, "content": "".join(part["text"] for part in parts)}
    return {"role": chat_role, "content": parts}


def _part(part: Any, role: str, where: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in _TEXT_PARTS:
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "refusal" and role == "assistant":
        return {"type": "text", "text": str(part.get("refusal") or "")}
    if kind == "input_image" and role in ("user", "tool"):
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise BadRequest(f"{where}: an input_image needs an image_url (a URL or a data: URL; file_id needs stored files)")
        return {"type": "image_url", "image_url": {"url": url}}
    raise BadRequest(f"{where}: unsupported part type {kind!r} for role {role}")


def _add_call(history: list[dict[str, Any]], item: Mapping[str, Any], where: str) -> None:
    arguments = item.get("arguments", "{}")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    call = {"id": _string(item, "call_id", where), "type": "function", "function": {"name": _string(item, "name", where), "arguments": arguments}}
    last = history[-1] if history else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
    else:
        history.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _output(output: Any, where: str) -> tuple[str, list[dict[str, Any]]]:
    """A tool result's text, and its images as chat image parts."""
    if isinstance(output, str):
        return output, []
    if isinstance(output, list):
        parts = [_part(part, "tool", f"{where}.output[{index}]") for index, part in enumerate(output)]
        return "".join(part["text"] for part in parts if part["type"] == "text"), [part for part in parts if part["type"] != "text"]
    raise BadRequest(f"{where}.output: must be a string or an array of parts")


def _string(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{where}.{key}: required (a string)")
    return value


def _tools(tools: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The request's function and custom tools, as sent and as chat tools; hosted tools dropped,
    other kinds refused."""
    if tools is None:
        return [], []
    if not isinstance(tools, list):
        raise BadRequest("tools: must be an array")
    kept, chat = [], []
    for number, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if kind in ("function", "custom"):
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                raise BadRequest(f"tools[{number}]: a {kind} tool needs a name")
            kept.append(dict(tool))
            chat.append(_chat_tool(tool, f"tools[{number}]"))
        elif isinstance(kind, str) and any(kind == hosted or kind.startswith(hosted + "_") for hosted in HOSTED_TOOLS):
            continue
        else:
            raise BadRequest(
                f"tools[{number}]: unsupported tool type {kind!r}: the gateway passes on function and custom tools "
                f"(and drops hosted ones: {', '.join(HOSTED_TOOLS)})"
            )
    names = [tool["name"] for tool in kept]
    for tool in kept:  # a call is told apart by its name alone
        if tool["type"] == "custom" and names.count(tool["name"]) > 1:
            raise BadRequest(f"tools: {tool['name']!r} names a custom tool and another tool")
    return kept, chat


def _chat_tool(tool: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A flat Responses function tool (or a custom one, as its function) → the chat wire's
    `{"type": "function", "function": {...}}`."""
    if tool.get("type") == "custom":
        return custom_tools.function_tool(tool, where)
    function: dict[str, Any] = {"name": tool["name"], "parameters": tool.get("parameters") or {"type": "object", "properties": {}}}
    if tool.get("description"):
        function["description"] = tool["description"]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


# ── answers ─────────────────────────────────────────────────────────────


def usage_body(usage: Usage | None) -> dict[str, Any]:
    """The Responses wire's usage object (its input tokens include those read from the cache)."""
    usage = usage or Usage()
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens or 0, "cache_write_tokens": usage.cache_write_tokens or 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }


def status_of(reason: str | None) -> tuple[str, dict[str, Any] | None]:
    """The response's `status` and `incomplete_details` for Herald's finish reason."""
    if reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if reason == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def _message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": [part]}


def _reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def _call_item(call: ToolCall, custom: frozenset[str]) -> dict[str, Any]:
    """A tool call as its output item: a `custom_tool_call` when it calls one of the request's
    custom tools (its input unwrapped from the function arguments), else a `function_call`."""
    if call.function.name in custom:
        return {
            "id": f"ctc_{uuid.uuid4().hex[:24]}",
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": call.id,
            "name": call.function.name,
            "input": custom_tools.call_input(call.function.arguments),
        }
    return {
        "id": f"fc_{uuid.uuid4().hex[:24]}",
        "type": "function_call",
        "status": "completed",
        "call_id": call.id,
        "name": call.function.name,
        "arguments": call.function.arguments or "{}",
    }


def _error_code(failure: Failure) -> str:
    return "rate_limit_exceeded" if failure.status == 429 else "server_error"


class ResponsesWriter:
    """One Responses answer, as the response object or as its SSE events (each with its
    `sequence_number`).

    Args:
        model: the model the events name until the answer says which model answered.
        echo: what the response object repeats of the request (tools, temperature, top_p,
            max_output_tokens).
    """

    media_type = "text/event-stream"

    def __init__(self, model: str, *, echo: Mapping[str, Any] | None = None) -> None:
        self.id = f"resp_{uuid.uuid4().hex}"
        self.created_at = int(time.time())
        self.model = model
        self.echo = dict(echo or {})
        self._custom = frozenset(tool["name"] for tool in self.echo.get("tools") or () if tool.get("type") == "custom")
        self._sequence = 0
        self._done: list[dict[str, Any]] = []  # output items finished and sent
        self._open: str | None = None  # "message" or "reasoning": the item being streamed
        self._open_id = ""
        self._pieces: list[str] = []

    def completion(self, response: LLMResponse) -> dict[str, Any]:
        """The non-streaming answer (the SDKs compute `output_text` from `output`)."""
        if response.model:
            self.model = response.model
        message = response.message
        status, details = status_of(response.finish_reason)
        output: list[dict[str, Any]] = []
        if message.reasoning_content:
            output.append(_reasoning_item(f"rs_{uuid.uuid4().hex[:24]}", message.reasoning_content))
        if message.content or not message.tool_calls:
            output.append(_message_item(f"msg_{uuid.uuid4().hex[:24]}", message.content or "", status))
        output.extend(_call_item(call, self._custom) for call in message.tool_calls or ())
        return self._response(status, output, usage=usage_body(response.usage), incomplete_details=details)

    # ── SSE ─────────────────────────────────────────────────────────────

    def preamble(self) -> bytes:
        return self._event("response.created", response=self._response("in_progress", [])) + self._event(
            "response.in_progress", response=self._response("in_progress", [])
        )

    def text(self, text: str) -> bytes:
        opened = self._switch("message")
        self._pieces.append(text)
        return opened + self._event("response.output_text.delta", **self._where(), content_index=0, delta=text, logprobs=[])

    def reasoning(self, text: str) -> bytes:
        opened = self._switch("reasoning")
        self._pieces.append(text)
        return opened + self._event("response.reasoning_summary_text.delta", **self._where(), summary_index=0, delta=text)

    def finish(self, response: LLMResponse) -> bytes:
        """The open item closed, the tool calls (known only once the answer is complete), and
        `response.completed`, or `response.incomplete` for an answer the length limit stopped."""
        if response.model:
            self.model = response.model
        status, details = status_of(response.finish_reason)
        parts = [self._close(status)]
        for call in response.message.tool_calls or ():
            parts.append(self._tool_call(_call_item(call, self._custom)))
        usage = usage_body(response.usage)
        terminal = "response.completed" if status == "completed" else "response.incomplete"
        parts.append(self._event(terminal, response=self._response(status, list(self._done), usage=usage, incomplete_details=details)))
        return b"".join(parts)

    def error(self, failure: Failure) -> bytes:
        """An in-band failure: an `error` event, then `response.failed` (what Codex reads); never
        `response.completed`. The `error` event also carries an `error` object, which the openai
        SDK raises as an `APIError` (as it does for the chat wire's in-band error)."""
        code = _error_code(failure)
        error = self._event(
            "error", code=code, message=failure.message, param=None,
            error={"type": failure.openai_type, "code": code, "message": failure.message},
        )
        output = list(self._done)
        if self._open is not None:  # the item cut short, as far as it was sent
            output.append(self._item("incomplete"))
        failed = self._response("failed", output, error={"code": code, "message": failure.message})
        return error + self._event("response.failed", response=failed)

    @staticmethod
    def keepalive() -> bytes:
        return b": keepalive\n\n"

    # ── items ───────────────────────────────────────────────────────────

    def _switch(self, kind: str) -> bytes:
        """Open a `kind` item unless one is open (closing the other kind first)."""
        if self._open == kind:
            return b""
        closed = self._close("completed")
        prefix = "msg" if kind == "message" else "rs"
        self._open, self._open_id, self._pieces = kind, f"{prefix}_{uuid.uuid4().hex[:24]}", []
        if kind == "message":
            added = {"id": self._open_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
            part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            return closed + self._event("response.output_item.added", output_index=len(self._done), item=added) + self._event(
                "response.content_part.added", **self._where(), content_index=0, part=part
            )
        added = {"id": self._open_id, "type": "reasoning", "summary": []}
        return closed + self._event("response.output_item.added", output_index=len(self._done), item=added) + self._event(
            "response.reasoning_summary_part.added", **self._where(), summary_index=0, part={"type": "summary_text", "text": ""}
        )

    def _item(self, status: str) -> dict[str, Any]:
        text = "".join(self._pieces)
        return _message_item(self._open_id, text, status) if self._open == "message" else _reasoning_item(self._open_id, text)

    def _close(self, status: str) -> bytes:
        if self._open is None:
            return b""
        item, where, text = self._item(status), self._where(), "".join(self._pieces)
        if self._open == "message":
            events = self._event("response.output_text.done", **where, content_index=0, text=text, logprobs=[]) + self._event(
                "response.content_part.done", **where, content_index=0, part=item["content"][0]
            )
        else:
            events = self._event("response.reasoning_summary_text.done", **where, summary_index=0, text=text) + self._event(
                "response.reasoning_summary_part.done", **where, summary_index=0, part=item["summary"][0]
            )
        events += self._event("response.output_item.done", output_index=len(self._done), item=item)
        self._done.append(item)
        self._open, self._pieces = None, []
        return events

    def _tool_call(self, item: dict[str, Any]) -> bytes:
        """A whole `function_call` or `custom_tool_call` item: added, its text in one delta, done."""
        index = len(self._done)
        where = {"item_id": item["id"], "output_index": index}
        field = "input" if item["type"] == "custom_tool_call" else "arguments"
        events = self._event("response.output_item.added", output_index=index, item={**item, "status": "in_progress", field: ""})
        if field == "input":
            events += self._event("response.custom_tool_call_input.delta", **where, delta=item["input"])
            events += self._event("response.custom_tool_call_input.done", **where, input=item["input"])
        else:
            events += self._event("response.function_call_arguments.delta", **where, delta=item["arguments"])
            events += self._event("response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"])
        events += self._event("response.output_item.done", output_index=index, item=item)
        self._done.append(item)
        return events

    def _where(self) -> dict[str, Any]:
        return {"item_id": self._open_id, "output_index": len(self._done)}

    # ── the response object and the event framing ──────────────────────

    def _response(self, status: str, output: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "model": self.model,
            "output": output,
            "usage": None,
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "metadata": {},
            "parallel_tool_calls": True,
            "tool_choice": "auto",  # what was applied: a client's tool_choice is not passed on
            "tools": self.echo.get("tools") or [],
            "temperature": self.echo.get("temperature"),
            "top_p": self.echo.get("top_p"),
            "max_output_tokens": self.echo.get("max_output_tokens"),
            "text": {"format": {"type": "text"}},
            "store": False,
            **fields,
        }

    def _event(self, kind: str, /, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self._sequence, **data}
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + msgspec.json.encode(payload) + b"\n\n"


__all__ = ["HOSTED_TOOLS", "ResponsesWriter", "input_history", "parse_responses", "status_of", "usage_body"]
