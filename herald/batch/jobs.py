"""The values that flow through a batch: a `Job` in, an `Outcome` out, an output row written.

Both are plain picklable dataclasses: on Ray they cross process and node boundaries.
"""

from __future__ import annotations

import os
import socket
import traceback as tb
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from herald.batch.samples import Sample

Status = Literal["completed", "failed", "limited"]


@dataclass(frozen=True)
class Job:
    """One attempt at one sample.

    Attributes:
        sample: what to run.
        attempt: 1 for the first try, then 2, 3, … (never reused for the same id).
        workdir: this attempt's own working directory for file and terminal tools (made
            by the runner when the tools need it; never the caller's cwd).
    """

    sample: Sample
    attempt: int
    workdir: Path


@dataclass
class Outcome:
    """How one attempt ended: everything its output row holds.

    Attributes:
        status: "completed", "failed", or "limited" (a limit the user set ended it: final,
            never run again; `limit` says which).
        final_response: the answer text (a failed attempt may have a partial one).
        messages: the whole conversation, OpenAI format, system prompt first.
        usage: tokens summed over the attempt's model calls.
        api_calls: model calls made.
        fallbacks: streams that failed and were replaced by a plain request.
        error / error_type: why it failed (a line fit for a person; the exception class name).
        model: the model that answered (as the provider named it), else the one requested.
        duration_s: wall time of the attempt.
        worker: where it ran: "host:pid", or "ray:node-ip/node-id:pid".
        traceback: for a crash in Herald's own code (a bug), the traceback; else None.
        rate_limited: 429 answers seen (for the summary; not written).
        limit: "time", "turns" or "tokens" when a limit ended the attempt.
        finish_reason: the last model call's finish reason ("length": the answer was cut by max_tokens).
        attempts: every HTTP request of its model calls (`AttemptRecord.as_dict()`), in order.
    """

    job: Job
    status: Status
    final_response: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    fallbacks: int = 0
    error: str | None = None
    error_type: str | None = None
    model: str | None = None
    duration_s: float = 0.0
    worker: str = ""
    traceback: str | None = None
    rate_limited: int = 0
    limit: str | None = None
    finish_reason: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        """The output row, keys in the documented order."""
        row: dict[str, Any] = {
            "id": self.job.sample.id,
            "attempt": self.job.attempt,
            "status": self.status,
            "final_response": self.final_response,
            "messages": self.messages,
            "usage": self.usage,
            "api_calls": self.api_calls,
            "fallbacks": self.fallbacks,
            "error": self.error,
            "error_type": self.error_type,
            "model": self.model,
            "duration_s": round(self.duration_s, 3),
            "worker": self.worker,
            "metadata": self.job.sample.metadata,
            "limit": self.limit,
            "finish_reason": self.finish_reason,
            "attempts": self.attempts,
        }
        if self.traceback is not None:
            row["traceback"] = self.traceback
        return row


def failure(job: Job, error: str, error_type: str, *, duration_s: float = 0.0, **known: Any) -> Outcome:
    """A failed attempt that produced nothing more than what `known` holds."""
    return Outcome(job, "failed", error=error, error_type=error_type, duration_s=duration_s, worker=local_worker(), **known)


def crash(job: Job, error: BaseException, *, duration_s: float = 0.0) -> Outcome:
    """A failed attempt because Herald's own code raised: the traceback is kept."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    trace = "".join(tb.format_exception(type(error), error, error.__traceback__))
    return Outcome(
        job, "failed", error=text, error_type=type(error).__name__, duration_s=duration_s, worker=local_worker(), traceback=trace
    )


def local_worker() -> str:
    """This process, as an output row's `worker`."""
    return f"{socket.gethostname()}:{os.getpid()}"
