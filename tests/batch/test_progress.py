"""Progress: a rich bar on a terminal, plain periodic lines in a pipe; the summary's words."""

from __future__ import annotations

import io

from rich.console import Console

from herald.batch.progress import PlainProgress, RichProgress, progress_for
from herald.batch.tally import Summary, Tally


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tally(clock: Clock) -> Tally:
    counts = Tally(samples=120, earlier_completed=20, to_run=100, clock=clock, started=0.0)
    counts.completed, counts.failed, counts.in_flight = 30, 2, 8
    return counts


def test_plain_lines_come_every_interval_with_rate_and_eta() -> None:
    clock, out = Clock(), io.StringIO()
    view = PlainProgress(out, interval=10, clock=clock)
    counts = tally(clock)
    view.start(counts)
    clock.now = 4
    view.update(counts)  # too soon: nothing
    clock.now = 16
    view.update(counts)
    assert out.getvalue().splitlines() == [
        "batch: 100 of 120 samples to run",
        "batch: 32/100 done, 2 failed · 8 in flight · 2.0/s · ETA 34.0 s",
    ]


def test_the_terminal_bar_shows_done_failed_in_flight_rate_and_eta() -> None:
    clock = Clock()
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    view = RichProgress(console)
    counts = tally(clock)
    clock.now = 16
    view.start(counts)
    view.update(counts)
    view.stop(counts)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "32/100" in text and "2 failed · 8 in flight · 2.0/s · ETA 34.0 s" in text


def test_pipes_get_plain_lines_and_terminals_a_bar() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(progress_for(io.StringIO()), PlainProgress)
    assert isinstance(progress_for(Terminal()), RichProgress)


def test_summary_lines_say_what_happened_and_what_to_do() -> None:
    clock = Clock()
    counts = tally(clock)
    counts.rate_limited, counts.attempts, counts.retried = 5, 40, 8
    clock.now = 80
    summary = Summary.of(counts, output="out.jsonl", concurrency=16, concurrency_lowest=4, concurrency_end=16,
                         repaired_bytes=12, unknown_ids=1, interrupted=True, backend="this machine")
    assert summary.exit_code == 130 and summary.unfinished == 68
    lines = summary.lines()
    assert lines[0] == "interrupted: 50 of 120 completed, 2 failed, 68 unfinished (run the same command to resume)"
    assert lines[1] == "this run: 40 attempts (8 retried) in 1m20s, 0.40 samples/s on this machine; 20 ids were already finished"
    assert "rate limited: 5 answers were 429; concurrency went down to 4 of 16 (at the end: 16)" in lines
    assert "repaired: cut a torn last line (12 bytes) from out.jsonl" in lines
    assert any("1 ids that are not in the input" in line for line in lines)
    assert summary.as_dict()["exit_code"] == 130
