"""What one model call's attempts were: a record per HTTP request, as it ended.

The attempt planner (`herald.llm.planner`) makes one `AttemptRecord` for every request it
sends (the answering one included) and hands each to the owner's `on_attempt` callback the
moment it ends, so consumers see recoveries as they happen:

    AttemptRecord(provider="gpt-4o via api.openai.com", model="gpt-4o", host="api.openai.com",
                  key=0, mode="stream", outcome="stalled", error="no first byte within 30s",
                  error_type="StreamStalled", next="fallback", delay_s=None, duration_s=30.0, …)

Consumers: `--json` (`attempt.failed` events), batch rows (`attempts`), OpenTelemetry
(`chat {model}` spans), the turn result (`TurnResult.attempts`). Records never hold a key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from herald.llm.types import Usage

AttemptMode = Literal["stream", "plain", "continue"]
"""How the request was sent: a stream, a plain request, or a stream continuing a cut answer."""

NextStep = Literal["retry", "plain", "fallback", "continue", "give_up"]
"""What the planner did after a failed attempt: the same request again after `delay_s`
("retry"; another key of the same provider counts as a retry), a plain request to the same
provider ("plain"), the next provider ("fallback"), a continuation of the cut answer
("continue"), or nothing more ("give_up": the call fails with this attempt's error, or with
an earlier, more telling one)."""


@dataclass(frozen=True)
class AttemptRecord:
    """One HTTP request of a model call, after it ended."""

    number: int
    """1 for the call's first request, 2 for the next, …"""
    provider: str
    """"MODEL via HOST", for messages."""
    model: str
    """The model asked for."""
    host: str
    """The provider's host (and port)."""
    key: int
    """The key's position in the provider's pool, 0-based (0 without a pool)."""
    mode: AttemptMode
    outcome: str
    """"ok", or what the failure was: "stream_failed", "stalled", "unreachable", "refused",
    "rate_limited", "server_error", "rejected", "content_policy", "context_length",
    "auth", "quota", "not_found", "interrupted"."""
    started_at: float
    """Wall-clock start (seconds since the epoch, `time.time()`)."""
    duration_s: float
    error: str | None = None
    """One line, key-free; None when the attempt answered."""
    error_type: str | None = None
    """The error's class name (e.g. "RateLimitError", "StreamStalled"); None when it answered."""
    status: int | None = None
    """The HTTP status of a failed attempt, when there was one."""
    next: NextStep | None = None
    """What came next (None when the attempt answered)."""
    delay_s: float | None = None
    """With next="retry": seconds waited before it."""
    first_chunk_s: float | None = None
    """Seconds from sending to the first chunk of a stream, when one arrived."""
    response_model: str | None = None
    """The model the provider said answered (an answering attempt)."""
    finish_reason: str | None = None
    usage: Usage | None = None
    """Tokens the provider reported for this attempt (a failed one may have billed some)."""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, usage as a dict (or None)."""
        data = asdict(self)
        data["usage"] = asdict(self.usage) if self.usage is not None else None
        return data


__all__ = ["AttemptMode", "AttemptRecord", "NextStep"]
