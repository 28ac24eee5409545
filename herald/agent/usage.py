"""Token usage in Herald's stored form: per answer, per turn, per session.

One plain dict shape everywhere (history messages, turn results, the CLI's JSON events),
so it survives the session store and `json.dumps` unchanged:

    {"input_tokens": 1200, "output_tokens": 80, "cached_input_tokens": 1024, "reasoning_tokens": None}

`cached_input_tokens` (counted in `input_tokens` too) and `reasoning_tokens` (counted in
`output_tokens` too) are None when no provider reported them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from herald.llm.types import Usage

UsageRecord = dict[str, int | None]

_COUNTS = ("input_tokens", "output_tokens")
_DETAILS = ("cached_input_tokens", "reasoning_tokens")


def usage_record(usage: Usage) -> UsageRecord:
    """The stored form of one response's usage."""
    return {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "cached_input_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


@dataclass
class UsageTotals:
    """Sums usage records; a detail stays None until some record reports it."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    responses: int = 0
    """How many records were added (model answers that reported usage)."""

    def add(self, record: UsageRecord | Usage | None) -> None:
        """Add one response's usage (ignored when None or not a usage record)."""
        if isinstance(record, Usage):
            record = usage_record(record)
        if not isinstance(record, dict):
            return
        self.responses += 1
        self.input_tokens += _count(record.get("input_tokens"))
        self.output_tokens += _count(record.get("output_tokens"))
        for name in _DETAILS:
            value = record.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, name, (getattr(self, name) or 0) + value)

    def record(self) -> UsageRecord | None:
        """The sum in the stored form; None when nothing was added."""
        if not self.responses:
            return None
        return {name: getattr(self, name) for name in (*_COUNTS, *_DETAILS)}


def session_usage(messages: Iterable[dict[str, Any]]) -> UsageTotals:
    """The totals of every assistant message's `usage` in a history."""
    totals = UsageTotals()
    for message in messages:
        if message.get("role") == "assistant":
            totals.add(message.get("usage"))
    return totals


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = ["UsageRecord", "UsageTotals", "session_usage", "usage_record"]
