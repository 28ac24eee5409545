"""The dim line after an answer that came from a fallback provider.

    answered by claude-haiku-4-5 via api.anthropic.com (primary: 503 upstream error)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def answered_by_line(result: dict[str, Any]) -> str | None:
    """The line for a turn's result, or None when the primary answered (or nothing did)."""
    answered = result.get("answered_by")
    if not isinstance(answered, dict) or not answered.get("skipped"):
        return None
    reasons = []
    for number, skipped in enumerate(answered["skipped"]):
        who = "primary" if number == 0 else f"{skipped.get('model')} via {_host(skipped.get('base_url'))}"
        reasons.append(f"{who}: {skipped.get('reason') or 'failed'}")
    return f"answered by {answered.get('model')} via {_host(answered.get('base_url'))} ({'; '.join(reasons)})"


def _host(base_url: Any) -> str:
    text = str(base_url or "")
    return urlparse(text).netloc or text
