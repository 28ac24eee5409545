"""Token usage in Herald's stored form: per answer, per turn, per session.

One plain dict shape everywhere (history messages, turn results, the CLI's JSON events),
so it survives the session store and `json.dumps` unchanged:

    {"input_tokens": 1200, "output_tokens": 80, "cached_input_tokens": 1024,
     "cache_write_input_tokens": None, "reasoning_tokens": None}

It is `herald.llm.types.Usage` written out (`usage_record`). `cached_input_tokens` (read from the
provider's cache) and `cache_write_input_tokens` (written to it) are counted in `input_tokens` too,
`reasoning_tokens` in `output_tokens`; each is None when no provider reported it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from herald.llm.types import Usage, add_usage

UsageRecord = dict[str, int | None]

_RECORD = (
    ("input_tokens", "prompt_tokens"),
    ("output_tokens", "completion_tokens"),
    ("cached_input_tokens", "cached_tokens"),
    ("cache_write_input_tokens", "cache_write_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
)
"""Each stored name and the `Usage` field it is."""


def usage_record(usage: Usage) -> UsageRecord:
    """The stored form of one response's usage."""
    return {name: getattr(usage, field) for name, field in _RECORD}


def usage_of_record(record: UsageRecord) -> Usage:
    """The `Usage` a stored record holds (a count that is not an int is 0, a detail None)."""
    details = {field: _number(record.get(name)) for name, field in _RECORD[2:]}
    prompt, completion = _number(record.get("input_tokens")) or 0, _number(record.get("output_tokens")) or 0
    return Usage(prompt, completion, prompt + completion, **details)


@dataclass
class UsageTotals:
    """Sums usage (`Usage` + `Usage`: the one place it is summed) over many answers."""

    total: Usage | None = None
    responses: int = 0
    """How many answers were added (model answers that reported usage)."""

    def add(self, record: UsageRecord | Usage | None) -> None:
        """Add one response's usage (ignored when None or not a usage record)."""
        if isinstance(record, dict):
            record = usage_of_record(record)
        if not isinstance(record, Usage):
            return
        self.responses += 1
        self.total = add_usage(self.total, record)

    @property
    def input_tokens(self) -> int:
        return self.total.prompt_tokens if self.total is not None else 0

    @property
    def output_tokens(self) -> int:
        return self.total.completion_tokens if self.total is not None else 0

    def record(self) -> UsageRecord | None:
        """The sum in the stored form; None when nothing was added."""
        return usage_record(self.total) if self.total is not None else None


def session_usage(messages: Iterable[dict[str, Any]]) -> UsageTotals:
    """The totals of every assistant message's `usage` in a history."""
    totals = UsageTotals()
    for message in messages:
        if message.get("role") == "assistant":
            totals.add(message.get("usage"))
    return totals


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = ["UsageRecord", "UsageTotals", "session_usage", "usage_record"]
