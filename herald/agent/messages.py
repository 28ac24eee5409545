"""Conversation history: Herald's stored form and the form sent to providers.

History entries are OpenAI-format message dicts. Herald may add keys of its own
(`interrupted`, `reasoning`, `provider_data`, `answered_by`); `for_api` strips them before a request.
"""

from __future__ import annotations

from typing import Any, Iterable

from herald.llm.types import LLMResponse

INTERRUPTED_NOTE = "\n\n[interrupted by the user]"

_API_KEYS = {
    "system": ("role", "content"),
    "user": ("role", "content", "name"),
    "assistant": ("role", "content", "tool_calls", "name"),
    "tool": ("role", "content", "tool_call_id", "name"),
}


def assistant_message(response: LLMResponse, *, interrupted: bool = False) -> dict[str, Any]:
    """The history entry for a model answer."""
    message = response.message
    entry: dict[str, Any] = {"role": "assistant", "content": message.content}
    if message.tool_calls:
        entry["tool_calls"] = [call.to_dict() for call in message.tool_calls]
    if message.reasoning_content:
        entry["reasoning"] = message.reasoning_content
    if message.provider_data:
        entry["provider_data"] = message.provider_data
    if response.extras.get("answered_by"):
        entry["answered_by"] = response.extras["answered_by"]  # which provider answered (failover)
    if interrupted:
        entry["interrupted"] = True
    return entry


def tool_message(call_id: str, name: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": content}


def for_api(messages: Iterable[dict[str, Any]], *, keep_replay_data: bool = False) -> list[dict[str, Any]]:
    """Provider-ready chat messages: Herald's own keys dropped, null content repaired.

    Assistant messages carrying tool calls get `"content": ""` rather than null, which some
    servers (llama.cpp's) answer with a 500. With `keep_replay_data`, `reasoning` and
    `provider_data` stay, for wires that convert the history further (Anthropic, Responses).
    """
    ready = []
    for message in messages:
        keys = _API_KEYS.get(message.get("role", ""), tuple(message))
        if keep_replay_data:
            keys = (*keys, "reasoning", "provider_data")
        entry = {key: message[key] for key in keys if key in message}
        if entry.get("role") == "assistant":
            if entry.get("content") is None:
                entry["content"] = ""
            if message.get("interrupted"):
                entry["content"] = (entry["content"] or "") + INTERRUPTED_NOTE
        ready.append(entry)
    return ready
