"""Turn what a user types into a safe full-text query, and make snippets without FTS5."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)

HIGHLIGHT = ("[", "]")
ELLIPSIS = "…"


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression finding messages that contain every word of `text`.

    Each word is quoted, so FTS5 syntax in the user's text (`AND`, `NEAR`, `*`, `:`, quotes)
    is searched for literally instead of raising a syntax error. A trailing `*` on the
    last word is kept as a prefix search, the one operator worth offering at a prompt.
    None when `text` holds no words.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    if text.rstrip().endswith("*"):
        terms[-1] += "*"
    return " ".join(terms)


def like_pattern(text: str) -> str:
    """A LIKE pattern (with `\\` as ESCAPE) matching `text` anywhere, `%` and `_` literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def plain_snippet(content: str, needle: str, width: int = 60) -> str:
    """An excerpt of `content` around the first case-insensitive occurrence of `needle`.

    Used when FTS5 is unavailable; marks the match like FTS5's `snippet()` would.
    """
    flat = " ".join(content.split())
    at = flat.lower().find(needle.lower())
    if at < 0:
        return flat[: 2 * width] + (ELLIPSIS if len(flat) > 2 * width else "")
    start = max(0, at - width)
    end = min(len(flat), at + len(needle) + width)
    open_, close = HIGHLIGHT
    return (
        (ELLIPSIS if start > 0 else "")
        + flat[start:at]
        + open_
        + flat[at : at + len(needle)]
        + close
        + flat[at + len(needle) : end]
        + (ELLIPSIS if end < len(flat) else "")
    )
