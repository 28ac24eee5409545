"""Which stored session a run continues (`--resume ID`, `-c`), and its history."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from herald.errors import ConfigError
from herald.sessions import SessionInfo, SessionStore


@dataclass(frozen=True)
class Resumed:
    """The session to continue (None: start a new one), its messages, and a note for the user."""

    session_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    recap: tuple[str, ...] = ()
    """The last exchange, a line each for the question and the answer, to show on resuming."""


def resolve_resume(store: SessionStore, resume_id: str | None, continue_last: bool, cwd: str | None = None) -> Resumed:
    """Look up the session to continue.

    `-c` picks the most recent session started in `cwd`, else the most recent one anywhere.

    Raises:
        ConfigError: both `--resume` and `-c` were given.
        SessionNotFound / AmbiguousSession: `resume_id` matches no session, or several.
    """
    if resume_id and continue_last:
        raise ConfigError("use either --resume ID or -c/--continue, not both")
    info: SessionInfo | None
    if resume_id:
        info = store.get_session(resume_id)
    elif continue_last:
        info = store.latest_session(cwd or os.getcwd()) or store.latest_session()
        if info is None:
            return Resumed(note="no session to continue; starting a new one")
    else:
        return Resumed()
    history = store.load_messages(info.id)
    recap = recap_lines(history)
    note = f"resuming session {info.id} ({len(history)} messages)" + ("; where it left off:" if recap else "")
    return Resumed(info.id, history, note, recap)


RECAP_CHARS = 240


def recap_lines(history: list[dict[str, Any]]) -> tuple[str, ...]:
    """The last question and what followed it, each shortened to one line.

    The answer is the last assistant text after the question; tool calls in between are
    counted, not shown. An interrupted or failed turn says so.
    """
    last_user = next((i for i in range(len(history) - 1, -1, -1) if _is_question(history[i])), None)
    if last_user is None:
        return ()
    lines = ["› " + _short(history[last_user].get("content"))]
    after = history[last_user + 1 :]
    tools = sum(1 for m in after if m.get("role") == "tool")
    if tools:
        lines.append(f"  ({tools} tool call{'s' if tools != 1 else ''})")
    answers = [m for m in after if m.get("role") == "assistant" and m.get("content")]
    if answers:
        answer = answers[-1]
        lines.append(_short(answer.get("content")) + (" [interrupted]" if answer.get("interrupted") else ""))
    else:
        lines.append("(no answer)")
    return tuple(lines)


def _is_question(message: dict[str, Any]) -> bool:
    return message.get("role") == "user" and not message.get("continuation")


def _short(content: Any) -> str:
    text = " ".join(str(content or "").split())
    return text if len(text) <= RECAP_CHARS else text[: RECAP_CHARS - 1].rstrip() + "…"
