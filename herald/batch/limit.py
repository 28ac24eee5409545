"""An adaptive concurrency limit: halve on 429, grow back by one per success (AIMD).

The provider's rate limit is unknown and changes. Halving on a 429 backs off as fast as
the provider asks; adding one slot per successful call recovers in about as many calls as
slots were lost, and never beyond the ceiling the user set. A burst of 429s from requests
that were already in flight counts once: after a cut, further 429s within `cooldown`
seconds do not cut again.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Callable


class AdaptiveLimit:
    """How many samples may run at once, adjusted by what the provider says.

    Args:
        ceiling: the most at once (`--concurrency`); the limit starts here.
        cooldown: seconds after a cut during which further 429s don't cut again.
        clock: monotonic seconds (for tests).

    Use from one event loop: `async with limit.slot(): ...`; call `rate_limited()` and
    `succeeded()` from that loop's thread.
    """

    def __init__(self, ceiling: int, *, cooldown: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if ceiling < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self.ceiling = ceiling
        self.cooldown = cooldown
        self._clock = clock
        self._limit = float(ceiling)
        self._last_cut = -float("inf")
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.lowest = ceiling
        """The lowest the limit went (for the summary)."""
        self.cuts = 0
        """How often a 429 cut the limit."""

    @property
    def limit(self) -> int:
        """Slots available now."""
        return max(1, int(self._limit))

    @property
    def in_use(self) -> int:
        return self._in_use

    def rate_limited(self) -> None:
        """The provider answered 429: halve the limit (once per cooldown)."""
        now = self._clock()
        if now - self._last_cut < self.cooldown:
            return
        self._last_cut = now
        self._limit = max(1.0, self._limit / 2)
        self.lowest = min(self.lowest, self.limit)
        self.cuts += 1

    def succeeded(self) -> None:
        """A model call succeeded: one more slot, up to the ceiling."""
        if self._limit < self.ceiling:
            self._limit = min(float(self.ceiling), self._limit + 1)
            self._wake()

    async def acquire(self) -> None:
        """Wait for a free slot and take it."""
        while self._in_use >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._wake()  # pass on a wake-up this waiter may have consumed
                raise
        self._in_use += 1

    def release(self) -> None:
        """Give a slot back."""
        self._in_use -= 1
        self._wake()

    def slot(self) -> _Slot:
        """`async with limit.slot():` holds one slot for the block."""
        return _Slot(self)

    def _wake(self) -> None:
        free = self.limit - self._in_use
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1


class _Slot:
    def __init__(self, limit: AdaptiveLimit) -> None:
        self._limit = limit

    async def __aenter__(self) -> None:
        await self._limit.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._limit.release()
