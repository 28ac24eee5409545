"""Message text as the local prompt frames show it: plain text, without Herald's own markers.

Herald adds notes of its own to the history it sends (an interrupted answer ends with
"[interrupted by the user]"; an answer cut by the length limit is followed by a request to
continue). An instruction-tuned model reads them as notes; a small pretrained model copies
them into later answers. The local frames therefore show the text without them.
"""

from __future__ import annotations

from typing import Any, Mapping

from herald.agent.messages import INTERRUPTED_NOTE


def message_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping) and part.get("type") == "text")
    return str(content)


def answer_text(message: Mapping[str, Any]) -> str:
    """An assistant message's text, with Herald's interruption note removed."""
    return message_text(message.get("content")).replace(INTERRUPTED_NOTE.strip(), "").strip()
