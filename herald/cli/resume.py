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
    return Resumed(info.id, history, f"resuming session {info.id} ({len(history)} messages)")
