"""Turn OpenAI-format message dicts into database rows and back, exactly.

A message is stored as columns for the well-known keys and a JSON `extra` for every other
key (wire-specific replay data such as `reasoning_details` or `codex_reasoning_items`).
Decoding yields a dict equal to the one encoded, including which keys were present:

* `content`: a string goes to `content`; any other value (None, a list of content parts)
  is kept verbatim as JSON in `content_json`, with its text parts copied to `content` so
  search still finds them. Both NULL means the key was absent.
* `tool_calls`: JSON in `tool_calls`; NULL means absent (an explicit None is stored as `null`).
* `tool_call_id`, `name`, `reasoning`: their column when the value is a string; any other
  value (e.g. an explicit None) goes to `extra` so it survives the round trip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

_TEXT_KEYS = ("tool_call_id", "name", "reasoning")


@dataclass(frozen=True)
class EncodedMessage:
    """The column values of one message row (everything except ids, seq and time)."""

    role: str
    content: str | None
    content_json: str | None
    tool_calls: str | None
    tool_call_id: str | None
    name: str | None
    reasoning: str | None
    extra: str | None


def content_text(content: Any) -> str | None:
    """The plain text of a message's content: the string itself, or its text parts joined."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        joined = "\n".join(t for t in texts if isinstance(t, str))
        return joined or None
    return None


def encode_message(message: Mapping[str, Any]) -> EncodedMessage:
    """Split `message` into columns.

    Raises:
        ValueError: no string `role`, or a value that cannot be stored as JSON.
    """
    role = message.get("role")
    if not isinstance(role, str) or not role:
        raise ValueError(f"a message needs a non-empty string 'role', got {role!r}")
    rest = {k: v for k, v in message.items() if k != "role"}

    content: str | None = None
    content_json: str | None = None
    if "content" in rest:
        value = rest.pop("content")
        if isinstance(value, str):
            content = value
        else:
            content_json = _dumps(value, "content")
            content = content_text(value)

    tool_calls = _dumps(rest.pop("tool_calls"), "tool_calls") if "tool_calls" in rest else None

    texts: dict[str, str | None] = {}
    for key in _TEXT_KEYS:
        value = rest.get(key)
        if isinstance(value, str):
            texts[key] = rest.pop(key)
        else:
            texts[key] = None  # absent, or kept in extra below

    return EncodedMessage(
        role=role,
        content=content,
        content_json=content_json,
        tool_calls=tool_calls,
        extra=_dumps(rest, "extra keys") if rest else None,
        **texts,
    )


def decode_message(
    *,
    role: str,
    content: str | None,
    content_json: str | None,
    tool_calls: str | None,
    tool_call_id: str | None,
    name: str | None,
    reasoning: str | None,
    extra: str | None,
) -> dict[str, Any]:
    """The message dict that `encode_message` turned into these column values."""
    message: dict[str, Any] = {"role": role}
    if content_json is not None:
        message["content"] = json.loads(content_json)
    elif content is not None:
        message["content"] = content
    if tool_calls is not None:
        message["tool_calls"] = json.loads(tool_calls)
    for key, value in (("tool_call_id", tool_call_id), ("name", name), ("reasoning", reasoning)):
        if value is not None:
            message[key] = value
    if extra is not None:
        message.update(json.loads(extra))
    return message


def _dumps(value: Any, what: str) -> str:
    try:
        # allow_nan=False: NaN is not JSON and would not load back in other tools.
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"message {what} cannot be stored as JSON: {exc}") from exc
