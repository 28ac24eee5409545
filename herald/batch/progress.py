"""Progress while a batch runs: a rich bar on a terminal, plain periodic lines in a pipe.

Both read the same `Tally`; the driver calls `update()` a few times a second and the view
decides how often to show it.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from herald.batch.tally import Tally, duration


class ProgressView(Protocol):
    def start(self, tally: Tally) -> None: ...

    def update(self, tally: Tally) -> None: ...

    def stop(self, tally: Tally) -> None: ...


def status_text(tally: Tally) -> str:
    """`3 failed · 32 in flight · 12.3/s · ETA 1m02s`."""
    return (
        f"{tally.failed} failed · {tally.in_flight} in flight · {tally.rate:.1f}/s · ETA {duration(tally.eta)}"
    )


class RichProgress:
    """A live bar on the terminal (stderr), cleared of nothing: it stays as the last state."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]batch[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            refresh_per_second=4,
        )
        self._task: TaskID | None = None

    def start(self, tally: Tally) -> None:
        self._task = self._progress.add_task("batch", total=tally.to_run, status=status_text(tally))
        self._progress.start()

    def update(self, tally: Tally) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=tally.finished, status=status_text(tally))

    def stop(self, tally: Tally) -> None:
        self.update(tally)
        self._progress.stop()


class PlainProgress:
    """One line every `interval` seconds, for logs and pipes."""

    def __init__(self, stream: TextIO, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._next = 0.0

    def start(self, tally: Tally) -> None:
        self._line(f"batch: {tally.to_run} of {tally.samples} samples to run")
        self._next = self._clock() + self._interval

    def update(self, tally: Tally) -> None:
        if self._clock() >= self._next:
            self._next = self._clock() + self._interval
            self._line(f"batch: {tally.finished}/{tally.to_run} done, " + status_text(tally))

    def stop(self, tally: Tally) -> None:
        pass  # the summary follows

    def _line(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()


class NoProgress:
    def start(self, tally: Tally) -> None:
        pass

    def update(self, tally: Tally) -> None:
        pass

    def stop(self, tally: Tally) -> None:
        pass


def progress_for(stream: TextIO, *, interval: float = 10.0) -> ProgressView:
    """A bar when `stream` is a terminal, else plain lines."""
    if stream.isatty():
        return RichProgress(Console(file=stream))
    return PlainProgress(stream, interval)
