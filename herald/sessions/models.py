"""What the session store hands out: session summaries, search hits and lookup errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from herald.errors import UserError


@dataclass(frozen=True)
class SessionInfo:
    """A stored session's summary (no messages). Times are timezone-aware (UTC)."""

    id: str
    created_at: datetime
    updated_at: datetime
    model: str | None
    base_url_host: str | None
    title: str | None
    cwd: str | None
    message_count: int


@dataclass(frozen=True)
class SearchHit:
    """One message matching a search.

    `snippet` is a short excerpt with the matched terms between `[` and `]`.
    """

    session_id: str
    title: str | None
    seq: int
    role: str
    snippet: str
    created_at: datetime


class SessionNotFound(UserError, LookupError):
    """No stored session has this id, or starts with this prefix."""


class AmbiguousSession(UserError, LookupError):
    """More than one stored session starts with this prefix.

    Attributes:
        candidates: the ids of the matching sessions (at most a handful).
    """

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates
