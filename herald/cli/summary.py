"""What a finished turn reports: tokens, timing, fallback. For the footer and the JSON stream.

Timing is measured where the deltas arrive (the CLI), usage comes from the turn's result
(`herald.agent.usage`). Time to first token runs from the turn's start to its first shown
delta; tokens per second divide the turn's output tokens by the time its model calls
streamed (each from its first delta, or its start, to its end), and are left out when a
fallback replaced a stream or nothing streamed (the figure would describe a plain request).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from herald.agent.result import TurnStatus
from herald.agent.usage import UsageRecord, UsageTotals

MIN_STREAMING_S = 0.05
"""Below this, a rate is noise (an answer that arrived in one piece)."""


class TurnTimer:
    """Times one turn from the display's side: call `start`, then `first_delta` / `call_ended`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started: float | None = None
        self._call_started: float | None = None
        self._call_first: float | None = None
        self.first_token_s: float | None = None
        """Seconds from the turn's start to its first delta (None: nothing streamed)."""
        self.streaming_s = 0.0
        """Seconds the turn's model calls took, each from its first delta (or its start) to its end."""
        self.replaced = False
        """A stream was reset: a plain request replaced it."""

    def start(self) -> None:
        now = self._clock()
        self._started = self._call_started = now
        self._call_first = None
        self.first_token_s = None
        self.streaming_s = 0.0
        self.replaced = False

    def first_delta(self) -> None:
        """The first delta of a model call arrived."""
        now = self._clock()
        if self._call_first is None:
            self._call_first = now
        if self.first_token_s is None and self._started is not None:
            self.first_token_s = now - self._started

    def stream_reset(self) -> None:
        self.replaced = True
        self._call_first = None  # the replacement's one delta says nothing about speed

    def call_ended(self) -> None:
        """The current model call is over (a tool starts, or the turn ends)."""
        now = self._clock()
        begun = self._call_first if self._call_first is not None else self._call_started
        if begun is not None:
            self.streaming_s += max(0.0, now - begun)
        self._call_started, self._call_first = now, None

    def tool_ended(self) -> None:
        """A tool finished: the next model call starts now."""
        self._call_started, self._call_first = self._clock(), None


@dataclass(frozen=True)
class TurnSummary:
    """The end of one turn, as a display reports it."""

    status: TurnStatus
    final_response: str | None
    usage: UsageRecord | None
    """Tokens summed over the turn's answers (see `herald.agent.usage`); None when unreported."""
    session_id: str | None = None
    fallback_reason: str | None = None
    answered_by: dict[str, Any] | None = None
    """Who produced the answer, when the result says (failover: `model`, `base_url`, `skipped`)."""
    error: str | None = None
    """The one-line failure shown to the user (status "failed")."""
    error_type: str | None = None
    first_token_s: float | None = None
    tokens_per_s: float | None = None
    limit: str | None = None
    """Which limit ended the turn ("time", "turns", "tokens"; status "limited")."""
    finish_reason: str | None = None
    """The last model call's finish reason ("length": the answer was cut by max_tokens)."""


def summarize(
    result: dict[str, Any], timer: TurnTimer | None, *, error: str | None = None, session_id: str | None = None
) -> TurnSummary:
    """The summary of a `run_conversation` result, with the timing the display measured."""
    status: TurnStatus = "interrupted" if result.get("interrupted") else (
        "completed" if result.get("completed") and not result.get("failed") else "failed"
    )
    if result.get("status") == "limited":
        status = "limited"
    usage = result.get("usage")
    fallback = result.get("fallback_reason")
    rate = None
    streamed = timer is not None and timer.first_token_s is not None
    if streamed and timer is not None and not timer.replaced and not fallback and timer.streaming_s >= MIN_STREAMING_S:
        output = usage.get("output_tokens") if isinstance(usage, dict) else None
        if isinstance(output, int) and output > 0:
            rate = output / timer.streaming_s
    return TurnSummary(
        status=status,
        final_response=result.get("final_response"),
        usage=usage if isinstance(usage, dict) else None,
        session_id=session_id,
        fallback_reason=fallback,
        answered_by=result.get("answered_by") if isinstance(result.get("answered_by"), dict) else None,
        error=error if status == "failed" else None,
        error_type=result.get("error_type") if status == "failed" else None,
        first_token_s=timer.first_token_s if timer is not None else None,
        tokens_per_s=rate,
        limit=result.get("limit") if status == "limited" else None,
        finish_reason=result.get("finish_reason"),
    )


def usage_text(usage: UsageRecord | UsageTotals | None) -> str:
    """`1,200 in (1,024 cached) · 80 out (12 reasoning)`; "" without usage."""
    if isinstance(usage, UsageTotals):
        usage = usage.record()
    if not usage:
        return ""
    text = f"{_count(usage.get('input_tokens'))} in"
    cached = usage.get("cached_input_tokens")
    if cached:
        text += f" ({_count(cached)} cached)"
    text += f" · {_count(usage.get('output_tokens'))} out"
    reasoning = usage.get("reasoning_tokens")
    if reasoning:
        text += f" ({_count(reasoning)} reasoning)"
    return text


def footer_text(summary: TurnSummary) -> str:
    """The footer's one line: tokens, time to first token, speed, fallback ("" if nothing to say)."""
    parts = []
    tokens = usage_text(summary.usage)
    if tokens:
        parts.append(tokens)
    if summary.first_token_s is not None:
        parts.append(f"first token {summary.first_token_s:.2f}s")
    if summary.tokens_per_s is not None:
        parts.append(f"{summary.tokens_per_s:.1f} tok/s")
    if summary.fallback_reason:
        parts.append(f"fell back: {' '.join(summary.fallback_reason.split())}")
    return " · ".join(parts)


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


__all__ = ["TurnStatus", "TurnSummary", "TurnTimer", "footer_text", "summarize", "usage_text"]
