"""The batch driver: check the files, plan the resume, run the jobs, write every row.

Data flows one way: input rows → jobs → a backend (this machine, or Ray workers) →
outcomes → the one writer, which alone appends to the output. The plan is updated as each
outcome arrives, so a failed attempt's retry gets the next attempt number at once.

    prepared = prepare(BatchFiles(input, output, workdir), max_attempts=3)   # reads only
    summary = asyncio.run(execute(prepared, LocalBackend(runner, 32, 600.0), progress))
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from herald.batch.jobs import Job, Outcome
from herald.batch.limit import AdaptiveLimit
from herald.batch.output import ExistingOutput, OutputWriter, read_output, repair
from herald.batch.plan import ResumePlan
from herald.batch.progress import ProgressView
from herald.batch.runner import LocalExecutor, SampleRunner
from herald.batch.samples import check_input, iter_samples
from herald.batch.tally import Summary, Tally
from herald.batch.workdirs import workdir_for

TICK = 0.25  # seconds between progress updates


@dataclass(frozen=True)
class BatchFiles:
    """The files of one batch: where samples come from, rows go to, tools work."""

    input: Path
    output: Path
    workdir: Path


@dataclass
class Prepared:
    """A batch checked and planned, nothing written yet."""

    files: BatchFiles
    plan: ResumePlan
    existing: ExistingOutput
    tally: Tally
    unknown_ids: int


def prepare(files: BatchFiles, *, max_attempts: int) -> Prepared:
    """Check every input row and read the output so far; touch nothing.

    Raises:
        BatchFileError: the input has bad rows, or the output has lines that are not rows.
    """
    keys = check_input(files.input)
    existing = read_output(files.output)
    plan = ResumePlan(existing.attempts, max_attempts)
    tally = Tally(samples=len(keys))
    for key in keys:
        state = plan.state(key)
        if state.completed:
            tally.earlier_completed += 1
        elif state.failures >= max_attempts:
            tally.earlier_failed += 1
        else:
            tally.to_run += 1
    unknown = len(plan.keys().difference(keys))
    return Prepared(files, plan, existing, tally, unknown)


class JobQueue:
    """Jobs for the backend: retries first, then the input's next rows, read lazily.

    `get()` returns None only when the input is exhausted and no attempt is in flight
    (an attempt in flight may still fail and come back as a retry).
    """

    def __init__(self, fresh: Iterator[Job]) -> None:
        self._fresh = fresh
        self._retries: deque[Job] = deque()
        self._changed = asyncio.Event()
        self.in_flight = 0

    async def get(self) -> Job | None:
        while True:
            job = self._retries.popleft() if self._retries else next(self._fresh, None)
            if job is not None:
                self.in_flight += 1
                return job
            if self.in_flight == 0:
                return None
            self._changed.clear()
            await self._changed.wait()

    async def get_many(self, most: int) -> list[Job]:
        """Up to `most` jobs, waiting only for the first (for shards)."""
        first = await self.get()
        if first is None:
            return []
        jobs = [first]
        while len(jobs) < most:
            job = self._retries.popleft() if self._retries else next(self._fresh, None)
            if job is None:
                break
            self.in_flight += 1
            jobs.append(job)
        return jobs

    def retry(self, job: Job) -> None:
        self._retries.append(job)
        self._changed.set()

    def give_back(self, job: Job) -> None:
        """A job handed out but never run to its end (its worker died): it runs again, first."""
        self._retries.appendleft(job)
        self.in_flight -= 1
        self._changed.set()

    def finished(self) -> None:
        """An attempt handed out by `get` has ended."""
        self.in_flight -= 1
        self._changed.set()


class Backend(Protocol):
    """Where attempts run: this machine (`LocalBackend`) or a Ray cluster."""

    name: str
    concurrency: int

    @property
    def lowest_concurrency(self) -> int:
        """The lowest the adaptive limit went."""
        ...

    @property
    def current_concurrency(self) -> int:
        """The adaptive limit now."""
        ...

    async def run(self, jobs: JobQueue, emit: Callable[[Outcome], None]) -> None:
        """Run jobs until `jobs` has none; `emit` every outcome as it arrives."""
        ...

    async def aclose(self) -> None: ...


class LocalBackend:
    """Attempts run in this process, up to `concurrency` at once."""

    def __init__(self, runner: SampleRunner, concurrency: int, time_limit: float | None, *, name: str = "this machine") -> None:
        self.name = name
        self.concurrency = concurrency
        self.runner = runner
        self.limit = AdaptiveLimit(concurrency)
        self._executor = LocalExecutor(runner, self.limit, time_limit)

    @property
    def lowest_concurrency(self) -> int:
        return self.limit.lowest

    @property
    def current_concurrency(self) -> int:
        return self.limit.limit

    async def run(self, jobs: JobQueue, emit: Callable[[Outcome], None]) -> None:
        await self._executor.run(jobs, emit)

    async def aclose(self) -> None:
        await self.runner.aclose()


async def execute(
    prepared: Prepared,
    backend: Backend,
    progress: ProgressView,
    *,
    secrets: Iterable[str | None] = (),
    handle_signals: bool = True,
) -> Summary:
    """Run the planned batch to its end, or until SIGINT / SIGTERM stops it cleanly.

    On a stop, attempts in flight are abandoned (they left no row and run again next
    time); rows of attempts that had already ended are still written.

    Raises:
        OSError: the output cannot be written (the run stops).
    """
    files, plan, tally = prepared.files, prepared.plan, prepared.tally
    repair(files.output, prepared.existing)
    writer = OutputWriter(files.output, secrets)
    queue = JobQueue(_fresh_jobs(files, plan))
    written: asyncio.Queue[tuple[Outcome, bool] | None] = asyncio.Queue()

    def emit(outcome: Outcome) -> None:
        sample, attempt = outcome.job.sample, outcome.job.attempt
        plan.record(sample.key, attempt, outcome.status)
        following = plan.next_attempt(sample.key)
        if following is not None:
            queue.retry(Job(sample, following, workdir_for(files.workdir, sample.id, following)))
        written.put_nowait((outcome, following is None))
        queue.finished()

    tally.started = tally.clock()
    progress.start(tally)
    work = asyncio.create_task(backend.run(queue, emit), name="herald-batch-backend")
    writing = asyncio.create_task(_write_rows(writer, written, tally), name="herald-batch-writer")
    ticking = asyncio.create_task(_tick(progress, tally, queue), name="herald-batch-progress")
    stopped = _StopOnSignal(work) if handle_signals else None
    try:
        await asyncio.wait({work, writing}, return_when=asyncio.FIRST_COMPLETED)
        if writing.done():  # only an error ends the writer early
            work.cancel()
            writing.result()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        if not (stopped and stopped.fired):
            work.result()
    finally:
        if stopped is not None:
            stopped.remove()
        written.put_nowait(None)
        await asyncio.wait({writing})  # rows of attempts that ended are written even on a stop
        ticking.cancel()
        tally.in_flight = 0
        progress.stop(tally)
        writer.close()
        await backend.aclose()
    failed_write = writing.exception()
    if failed_write is not None:  # while writing the last rows
        raise failed_write
    return Summary.of(
        tally,
        output=str(files.output),
        concurrency=backend.concurrency,
        concurrency_lowest=backend.lowest_concurrency,
        concurrency_end=backend.current_concurrency,
        repaired_bytes=prepared.existing.torn_bytes,
        unknown_ids=prepared.unknown_ids,
        interrupted=bool(stopped and stopped.fired),
        backend=backend.name,
    )


def _fresh_jobs(files: BatchFiles, plan: ResumePlan) -> Iterator[Job]:
    """The first job of every input id that needs one, in input order."""
    for sample in iter_samples(files.input):
        attempt = plan.next_attempt(sample.key)
        if attempt is not None:
            yield Job(sample, attempt, workdir_for(files.workdir, sample.id, attempt))


async def _write_rows(writer: OutputWriter, rows: asyncio.Queue[tuple[Outcome, bool] | None], tally: Tally) -> None:
    """The one writer: whatever has arrived is written and fsynced together (group commit)."""
    loop = asyncio.get_running_loop()
    closing = False
    while not closing:
        batch: list[tuple[Outcome, bool]] = []
        item = await rows.get()
        while item is not None:
            batch.append(item)
            if rows.empty():
                break
            item = rows.get_nowait()
        closing = item is None
        if batch:
            await loop.run_in_executor(None, writer.append, [outcome.row() for outcome, _ in batch])
            for outcome, final in batch:
                tally.written(outcome, final=final)


async def _tick(progress: ProgressView, tally: Tally, queue: JobQueue) -> None:
    while True:
        tally.in_flight = queue.in_flight
        progress.update(tally)
        await asyncio.sleep(TICK)


class _StopOnSignal:
    """SIGINT or SIGTERM cancels the backend once; a second SIGINT interrupts as usual."""

    def __init__(self, work: asyncio.Task[None]) -> None:
        self.fired = False
        self._work = work
        self._loop = asyncio.get_running_loop()
        self._installed: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._loop.add_signal_handler(signum, self._fire)
            except (ValueError, RuntimeError, NotImplementedError):
                continue  # not the main thread, or no signals here
            self._installed.append(signum)

    def _fire(self) -> None:
        self.fired = True
        self._work.cancel()
        self.remove()

    def remove(self) -> None:
        for signum in self._installed:
            self._loop.remove_signal_handler(signum)
        self._installed.clear()
