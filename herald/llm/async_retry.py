"""Retry an awaited plain request on transient failures: `retry.call_with_retries` with async sleeps.

The policy (what is transient, how long to wait, Retry-After capped) is `herald.llm.retry`'s;
only the wait differs. Cancelling the task cancels the sleep: an interrupt between attempts
needs no flag.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, TypeVar

from herald.llm.retry import RetryPolicy

log = logging.getLogger("herald.llm.retry")

T = TypeVar("T")


async def call_with_retries_async(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Await `attempt()` until it succeeds, fails for good, or retries run out.

    Raises:
        The last attempt's error; `asyncio.CancelledError` when cancelled (also mid-wait).
    """
    for number in range(policy.max_retries + 1):
        try:
            return await attempt()
        except Exception as error:
            if number == policy.max_retries or not policy.should_retry(error):
                raise
            delay = policy.delay_for(number + 1, error)
            log.info("request failed (%s); retry %d/%d in %.1fs", error, number + 1, policy.max_retries, delay)
            await sleep(delay)
    raise AssertionError("unreachable")
