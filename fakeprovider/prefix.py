"""Continuing from a prefix, as servers that support it do: the request ends with an assistant
message (chat: `prefix: true` on it, or `continue_final_message: true` in the body; Anthropic: a
prefill), and the answer is the rest of the scripted text after that prefix.

A `Reply(reject_prefill=True)` answers such a request with a 400 worded as newer Anthropic
models (or vLLM, on the chat wire) word it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .script import Reply

REFUSALS = {
    "anthropic": "This model does not support assistant message prefill. The conversation must end with a user message.",
    "chat": "continue_final_message is not supported for this model: the final message must be a user message.",
}


def prefix_of(wire: str, body: dict[str, Any]) -> str | None:
    """The assistant prefix this request asks to continue, or None when it asks for a new answer."""
    messages = body.get("messages")
    if wire not in ("chat", "anthropic") or not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "assistant":
        return None
    extra = body.get("continue_final_message") is True
    if wire == "chat" and not (last.get("prefix") is True or extra):
        return None
    return _text(last.get("content"))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def continued(reply: Reply, prefix: str) -> Reply:
    """The reply that continues `prefix`: the scripted text after it (all of it when the script does
    not start with it, or when `echo_prefix` is set: then the prefix is sent again first), usage
    counting only the new tokens."""
    rest = reply.text[len(prefix) :] if reply.text.startswith(prefix) else reply.text
    if reply.echo_prefix:
        rest = prefix + rest
    prompt, completion = reply.usage
    new = round(completion * len(rest) / len(reply.text)) if reply.text else completion
    return replace(reply, text=rest, usage=(prompt, max(new, 1 if rest else 0)), repeat=1)
