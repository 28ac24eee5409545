"""Counting a batch as it runs, and the summary at its end (text, or JSON with `--json`)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from herald.batch.jobs import Outcome

EXIT_OK, EXIT_FAILED, EXIT_LIMITED, EXIT_INTERRUPTED = 0, 1, 3, 130


@dataclass
class Tally:
    """The batch's counters. Ids are counted once they are final and their row is on disk.

    Attributes:
        samples: ids in the input.
        earlier_completed / earlier_failed: ids a previous run already finished.
        to_run: ids this run has to finish.
        completed / failed: ids this run finished (failed: every attempt used up).
        attempts: attempts whose rows this run wrote; `retried` of them failed and ran again.
        in_flight: attempts running now.
        rate_limited: 429 answers seen.
        usage: tokens summed over this run's attempts.
    """

    samples: int = 0
    earlier_completed: int = 0
    earlier_failed: int = 0
    to_run: int = 0
    completed: int = 0
    failed: int = 0
    limited: int = 0
    attempts: int = 0
    retried: int = 0
    in_flight: int = 0
    rate_limited: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.limited

    @property
    def elapsed(self) -> float:
        return max(self.clock() - self.started, 1e-9)

    @property
    def rate(self) -> float:
        """Ids finished per second, this run."""
        return self.finished / self.elapsed

    @property
    def eta(self) -> float | None:
        """Seconds until every id is finished at the current rate (None: no rate yet)."""
        remaining = self.to_run - self.finished
        if remaining <= 0:
            return 0.0
        return remaining / self.rate if self.finished else None

    def written(self, outcome: Outcome, *, final: bool) -> None:
        """`outcome`'s row is on disk; `final` when its id needs no more attempts."""
        self.attempts += 1
        self.rate_limited += outcome.rate_limited
        for name, value in outcome.usage.items():
            self.usage[name] = self.usage.get(name, 0) + value
        if outcome.status == "completed":
            self.completed += 1
        elif outcome.status == "limited":
            self.limited += 1
        elif final:
            self.failed += 1
        else:
            self.retried += 1


@dataclass(frozen=True)
class Summary:
    """How a batch run ended; `as_dict()` is what `--json` prints."""

    output: str
    samples: int
    completed: int
    failed: int
    unfinished: int
    run_completed: int
    run_failed: int
    run_limited: int
    attempts: int
    retried: int
    earlier_completed: int
    earlier_failed: int
    rate_limited: int
    concurrency: int
    concurrency_lowest: int
    concurrency_end: int
    duration_s: float
    samples_per_s: float
    usage: dict[str, int]
    repaired_bytes: int
    unknown_ids: int
    interrupted: bool
    backend: str
    exit_code: int

    @classmethod
    def of(
        cls,
        tally: Tally,
        *,
        output: str,
        concurrency: int,
        concurrency_lowest: int,
        concurrency_end: int,
        repaired_bytes: int,
        unknown_ids: int,
        interrupted: bool,
        backend: str,
    ) -> Summary:
        completed = tally.earlier_completed + tally.completed
        failed = tally.earlier_failed + tally.failed
        unfinished = tally.samples - completed - failed - tally.limited
        code = (
            EXIT_INTERRUPTED if interrupted else EXIT_FAILED if failed or unfinished else EXIT_LIMITED if tally.limited else EXIT_OK
        )
        return cls(
            output=output,
            samples=tally.samples,
            completed=completed,
            failed=failed,
            unfinished=unfinished,
            run_completed=tally.completed,
            run_failed=tally.failed,
            run_limited=tally.limited,
            attempts=tally.attempts,
            retried=tally.retried,
            earlier_completed=tally.earlier_completed,
            earlier_failed=tally.earlier_failed,
            rate_limited=tally.rate_limited,
            concurrency=concurrency,
            concurrency_lowest=concurrency_lowest,
            concurrency_end=concurrency_end,
            duration_s=round(tally.elapsed, 3),
            samples_per_s=round(tally.rate, 3),
            usage=dict(tally.usage),
            repaired_bytes=repaired_bytes,
            unknown_ids=unknown_ids,
            interrupted=interrupted,
            backend=backend,
            exit_code=code,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The summary for a person, a few lines."""
        head = "interrupted" if self.interrupted else "done"
        out = [
            f"{head}: {self.completed} of {self.samples} completed, {self.failed} failed"
            + (f", {self.run_limited} limited" if self.run_limited else "")
            + (f", {self.unfinished} unfinished (run the same command to resume)" if self.unfinished else "")
        ]
        earlier = self.earlier_completed + self.earlier_failed
        out.append(
            f"this run: {self.attempts} attempts ({self.retried} retried) in {_duration(self.duration_s)}, "
            f"{self.samples_per_s:.2f} samples/s on {self.backend}"
            + (f"; {earlier} ids were already finished" if earlier else "")
        )
        tokens = self.usage.get("total_tokens")
        if tokens:
            out.append(
                f"tokens: {tokens:,} ({self.usage.get('prompt_tokens', 0):,} prompt, "
                f"{self.usage.get('completion_tokens', 0):,} completion)"
            )
        if self.rate_limited:
            out.append(
                f"rate limited: {self.rate_limited} answers were 429; concurrency went down to "
                f"{self.concurrency_lowest} of {self.concurrency} (at the end: {self.concurrency_end})"
            )
        if self.repaired_bytes:
            out.append(f"repaired: cut a torn last line ({self.repaired_bytes} bytes) from {self.output}")
        if self.unknown_ids:
            out.append(f"note: {self.output} has rows for {self.unknown_ids} ids that are not in the input (left alone)")
        if self.failed:
            out.append(f"failed rows: the last row of each failed id in {self.output} has its error")
        return out


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def duration(seconds: float | None) -> str:
    """A short human duration ("12.3 s", "4m05s"), or "?" when unknown."""
    return "?" if seconds is None else _duration(seconds)
