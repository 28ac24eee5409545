"""The adaptive limit (AIMD) and the executor's isolation: a crash or a hang is one sample's result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from herald.batch.agent import NoSignals, Signals
from herald.batch.jobs import Job, Outcome
from herald.batch.limit import AdaptiveLimit
from herald.batch.runner import LocalExecutor, run_isolated
from herald.batch.samples import Sample


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_429_halves_once_per_cooldown_and_successes_grow_it_back() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, cooldown=1.0, clock=clock)
    limit.rate_limited()
    assert limit.limit == 8
    limit.rate_limited()  # the same burst: requests that were already in flight
    assert limit.limit == 8
    clock.now += 1.5
    limit.rate_limited()
    assert limit.limit == 4 and limit.lowest == 4 and limit.cuts == 2
    for _ in range(11):
        limit.succeeded()
    assert limit.limit == 15
    for _ in range(10):
        limit.succeeded()
    assert limit.limit == 16  # never beyond the ceiling
    for _ in range(10):
        clock.now += 2
        limit.rate_limited()
    assert limit.limit == 1  # never below one


def test_slots_wait_for_a_lower_limit_and_wake_when_it_grows() -> None:
    async def scenario() -> list[int]:
        limit = AdaptiveLimit(4, clock=Clock())
        for _ in range(4):
            await limit.acquire()
        limit.rate_limited()  # limit 2 while 4 are in use
        limit.release()
        limit.release()
        limit.release()  # 1 in use: one more may start
        await asyncio.wait_for(limit.acquire(), 1)
        waiting = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0.01)
        seen = [limit.in_use, int(waiting.done())]
        limit.succeeded()  # 3 slots now
        await asyncio.wait_for(waiting, 1)
        return seen + [limit.in_use]

    assert asyncio.run(scenario()) == [2, 0, 3]


def job(n: int) -> Job:
    return Job(Sample(f"s{n}", n, f"question {n}"), 1, Path("/nonexistent/work") / str(n))


class ScriptedRunner:
    """A runner whose samples crash, hang or answer, by prompt (a small real implementation)."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0

    async def run(self, job: Job, *, deadline: float, signals: Signals) -> Outcome:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            text = job.sample.user_message
            if text.endswith(" 3"):
                raise RuntimeError("a bug in the runner")
            if text.endswith(" 5"):
                await asyncio.sleep(3600)  # hangs, ignoring its deadline
            await asyncio.sleep(0.01)
            return Outcome(job, "completed", final_response=f"answer to {text}")
        finally:
            self.running -= 1

    async def aclose(self) -> None:
        pass


class ListSource:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = list(jobs)

    async def get(self) -> Job | None:
        return self.jobs.pop(0) if self.jobs else None


def test_a_crash_and_a_hang_fail_only_their_own_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("herald.batch.runner.STOP_GRACE", 0.2)
    runner = ScriptedRunner()
    outcomes: list[Outcome] = []

    async def scenario() -> None:
        executor = LocalExecutor(runner, AdaptiveLimit(3), time_limit=0.3)
        await asyncio.wait_for(executor.run(ListSource([job(n) for n in range(10)]), outcomes.append), 30)

    asyncio.run(scenario())
    by_id = {o.job.sample.id: o for o in outcomes}
    assert sorted(by_id) == sorted(f"s{n}" for n in range(10))
    assert by_id["s3"].status == "failed" and by_id["s3"].error_type == "RuntimeError"
    assert by_id["s3"].error == "RuntimeError: a bug in the runner"
    assert "a bug in the runner" in (by_id["s3"].traceback or "") and "Traceback" in (by_id["s3"].traceback or "")
    assert by_id["s5"].status == "failed" and by_id["s5"].error_type == "TimeoutError"
    assert "time limit of 0.3 s" in (by_id["s5"].error or "")
    assert all(o.status == "completed" for k, o in by_id.items() if k not in ("s3", "s5"))
    assert runner.most <= 3
    assert "traceback" in by_id["s3"].row() and "traceback" not in by_id["s0"].row()


def test_isolation_records_the_duration() -> None:
    async def scenario() -> Outcome:
        return await run_isolated(ScriptedRunner(), job(1), time_limit=None, signals=NoSignals())

    outcome = asyncio.run(scenario())
    assert outcome.status == "completed" and outcome.duration_s >= 0.01
