"""Async retries: the sync policy, awaited sleeps, cancellation mid-wait."""

from __future__ import annotations

import asyncio
import time

import pytest

from herald.errors import AuthenticationError, ProviderError, RateLimitError
from herald.llm.async_retry import call_with_retries_async
from herald.llm.retry import RetryPolicy


def flaky(errors: list[Exception], calls: list[float]):  # type: ignore[no-untyped-def]
    async def attempt() -> str:
        calls.append(time.monotonic())
        if errors:
            raise errors.pop(0)
        return "ok"

    return attempt


def test_transient_errors_are_retried_honouring_retry_after_capped() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    errors: list[Exception] = [
        # After the readers merge, Retry-After is parsed at the SDK seam and handed to the error.
        RateLimitError("429", status=429, retry_after=0.25),
        ProviderError("503", status=503, retry_after=9999),
    ]
    calls: list[float] = []
    policy = RetryPolicy(max_retries=3, max_delay=2.0)
    assert asyncio.run(call_with_retries_async(flaky(errors, calls), policy=policy, sleep=sleep)) == "ok"
    assert waits == [0.25, 2.0] and len(calls) == 3


def test_a_permanent_error_is_not_retried_and_retries_run_out() -> None:
    calls: list[float] = []
    with pytest.raises(AuthenticationError):
        asyncio.run(call_with_retries_async(flaky([AuthenticationError("401", status=401)], calls), policy=RetryPolicy()))
    assert len(calls) == 1
    calls.clear()
    errors: list[Exception] = [ProviderError("500", status=500) for _ in range(3)]
    with pytest.raises(ProviderError):
        asyncio.run(call_with_retries_async(flaky(errors, calls), policy=RetryPolicy(max_retries=1, base_delay=0.01)))
    assert len(calls) == 2


def test_the_wait_does_not_block_the_loop_and_cancelling_it_stops_at_once() -> None:
    async def main() -> tuple[int, float]:
        errors: list[Exception] = [RateLimitError("429", status=429, retry_after=30)]
        task = asyncio.create_task(call_with_retries_async(flaky(errors, []), policy=RetryPolicy(max_retries=2)))
        ticks = 0
        for _ in range(10):  # the loop keeps running other work while the retry waits
            await asyncio.sleep(0.01)
            ticks += 1
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ticks, time.monotonic() - started

    ticks, stop = asyncio.run(main())
    assert ticks == 10 and stop < 0.5
