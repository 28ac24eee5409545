"""Chat-format history → the native request shapes of the Responses and Anthropic wires.

The agent loop keeps one history in the OpenAI chat-completions format (system / user /
assistant with `tool_calls` / tool messages). Each wire's `build_kwargs` converts it here.

Replay data: an assistant history dict may carry `PROVIDER_DATA_KEY` ("provider_data"),
the `Message.provider_data` of the response it came from, verbatim. It is namespaced by
wire ({"anthropic": {...}}, {"responses": {...}}) so a history replayed on another wire
ignores what is not its own. The chat wire strips the key before sending.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

PROVIDER_DATA_KEY = "provider_data"
"""The key under which an assistant history dict keeps its `Message.provider_data`."""

ANTHROPIC_DATA = "anthropic"
RESPONSES_DATA = "responses"

_DATA_URL = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


# ── shared ──────────────────────────────────────────────────────────────


def text_of(content: Any) -> str:
    """The text of a chat `content` (a string, None, or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text") or "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    return str(content)


def wire_data(message: dict[str, Any], wire: str) -> dict[str, Any]:
    """This wire's replay data on an assistant history dict ({} when none)."""
    data = message.get(PROVIDER_DATA_KEY)
    own = data.get(wire) if isinstance(data, dict) else None
    return own if isinstance(own, dict) else {}


def _system_text(messages: Iterable[dict[str, Any]]) -> str | None:
    parts = [text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
    joined = "\n\n".join(p for p in parts if p)
    return joined or None


def _function_specs(tools: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The `function` objects of chat-format tools (already-flat specs are accepted too)."""
    specs: list[dict[str, Any]] = []
    for tool in tools or ():
        function = tool.get("function")
        spec: dict[str, Any] = function if isinstance(function, dict) else tool
        if spec.get("name"):
            specs.append(spec)
    return specs


def _tool_calls(message: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(call id, name, arguments JSON text) of an assistant message's tool calls."""
    calls = []
    for position, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments if arguments is not None else {})
        calls.append((str(call.get("id") or f"call_{position}"), str(function.get("name") or ""), arguments))
    return calls


# ── OpenAI Responses ────────────────────────────────────────────────────


def to_responses_tools(tools: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Chat tools `{"type": "function", "function": {...}}` → flat Responses function tools."""
    converted = []
    for spec in _function_specs(tools):
        tool: dict[str, Any] = {"type": "function", "name": spec["name"]}
        if spec.get("description"):
            tool["description"] = spec["description"]
        tool["parameters"] = spec.get("parameters") or {"type": "object", "properties": {}}
        if "strict" in spec:
            tool["strict"] = spec["strict"]
        converted.append(tool)
    return converted


def to_responses_input(messages: Iterable[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """Chat history → (`instructions`, `input` items) of a Responses request."""
    messages = list(messages)
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            continue  # → instructions
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": str(message.get("tool_call_id") or ""),
                    "output": text_of(message.get("content")),
                }
            )
        elif role == "assistant":
            items.extend(_responses_assistant_items(message))
        else:
            items.append({"role": "user", "content": _responses_user_content(message.get("content"))})
    return _system_text(messages), items


def _responses_assistant_items(message: dict[str, Any]) -> list[dict[str, Any]]:
    # Reasoning items go back first, as the model produced them. Only items with
    # encrypted_content can be replayed: with store=false (Codex) a bare id is "not found".
    items = [item for item in wire_data(message, RESPONSES_DATA).get("reasoning_items", ()) if item.get("encrypted_content")]
    text = text_of(message.get("content"))
    if text:
        items.append({"role": "assistant", "content": text})
    for call_id, name, arguments in _tool_calls(message):
        items.append({"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments})
    return items


def _responses_user_content(content: Any) -> Any:
    if not isinstance(content, list):
        return text_of(content)
    parts = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"type": "input_text", "text": str(part.get("text") or "")})
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append({"type": "input_image", "image_url": str(url or ""), "detail": "auto"})
    return parts


# ── Anthropic Messages ──────────────────────────────────────────────────


def to_anthropic_tools(tools: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Chat tools → Anthropic tools `{"name", "description", "input_schema"}`."""
    converted = []
    for spec in _function_specs(tools):
        tool: dict[str, Any] = {"name": spec["name"]}
        if spec.get("description"):
            tool["description"] = spec["description"]
        tool["input_schema"] = spec.get("parameters") or spec.get("input_schema") or {"type": "object", "properties": {}}
        converted.append(tool)
    return converted


def to_anthropic_messages(messages: Iterable[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """Chat history → (`system`, `messages`) of an Anthropic request.

    Tool results become `tool_result` blocks in a user turn; consecutive turns of one role
    are merged, because the API wants user and assistant to alternate.
    """
    messages = list(messages)
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            continue  # → system
        if role == "assistant":
            blocks = _anthropic_assistant_blocks(message)
            turn_role = "assistant"
        elif role == "tool":
            blocks = [
                {
                    "type": "tool_result",
                    "tool_use_id": str(message.get("tool_call_id") or ""),
                    "content": text_of(message.get("content")),
                }
            ]
            turn_role = "user"
        else:
            blocks = _anthropic_user_blocks(message.get("content"))
            turn_role = "user"
        if not blocks:
            continue  # Anthropic rejects empty content
        if turns and turns[-1]["role"] == turn_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": turn_role, "content": blocks})
    return _system_text(messages), turns


def _anthropic_assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    # Thinking blocks must be replayed unchanged, signature included, before the text and
    # tool_use blocks, or a tool-use turn with thinking enabled is rejected.
    # https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#preserving-thinking-blocks
    blocks = [dict(block) for block in wire_data(message, ANTHROPIC_DATA).get("thinking_blocks", ())]
    text = text_of(message.get("content"))
    if text:
        blocks.append({"type": "text", "text": text})
    for call_id, name, arguments in _tool_calls(message):
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": _tool_input(arguments)})
    return blocks


def _tool_input(arguments: str) -> dict[str, Any]:
    """Anthropic wants the input as an object; keep unparsable model output visible, not lost."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"_unparsed_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def _anthropic_user_blocks(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        text = text_of(content)
        return [{"type": "text", "text": text}] if text else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and part.get("text"):
            blocks.append({"type": "text", "text": str(part["text"])})
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = str((image.get("url") if isinstance(image, dict) else image) or "")
            match = _DATA_URL.match(url)
            source: dict[str, str]
            if match:
                source = {"type": "base64", "media_type": match["media"], "data": match["data"]}
            else:
                source = {"type": "url", "url": url}
            blocks.append({"type": "image", "source": source})
    return blocks
