"""Stall limits for one awaited request: first byte, idle and total, as asyncio deadlines.

The async twin of `guard.RequestGuard`, without its worker thread: an awaited read can be
cancelled, so an interrupt is simply the task's cancellation, and a stall is a cancellation
this watch started itself and turns into `StreamStalled` (the way `asyncio.timeout` turns
its own into `TimeoutError`, leaving every other cancellation alone).

Per event the reader only records the time (`touch`); one timer is armed for the nearest
deadline and, when it fires early because content arrived since, re-armed for the new one.
A thousand streams then cost a float store per chunk, not a timer each.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType

from herald.errors import StreamStalled
from herald.llm.timeouts import StreamTimeouts

_NO_LIMITS = StreamTimeouts(first_byte=None, idle=None, total=None)


class StallWatch:
    """`async with StallWatch(limits) as watch:` around opening and reading one stream.

    Call `watch.touch(content=…)` for every event received. When a limit passes, the block
    is cancelled and `StreamStalled` raised from it; any other cancellation propagates as is.
    """

    def __init__(self, timeouts: StreamTimeouts | None = None) -> None:
        self._timeouts = timeouts or _NO_LIMITS
        self._task: asyncio.Task[object] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._started = 0.0
        self._first_byte_at: float | None = None
        self._last_content_at = 0.0
        self._content_seen = False
        self._stalled: StreamStalled | None = None

    def touch(self, *, content: bool) -> None:
        """An event arrived; `content` when it carried text, reasoning or a tool call."""
        now = time.monotonic()
        if self._first_byte_at is None:
            self._first_byte_at = self._last_content_at = now
            # The timer waits for the first-byte deadline; the idle one may be sooner.
            if self._timer is not None:
                self._timer.cancel()
                self._arm()
        elif content:
            self._last_content_at = now
        self._content_seen = self._content_seen or content

    @property
    def got_a_byte(self) -> bool:
        """Whether any event arrived yet (a connection failing after that is a cut stream)."""
        return self._first_byte_at is not None

    @property
    def first_chunk_s(self) -> float | None:
        """Seconds from sending the request to its first chunk (None: none arrived)."""
        return None if self._first_byte_at is None else round(self._first_byte_at - self._started, 6)

    async def __aenter__(self) -> StallWatch:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("StallWatch must be used inside a task")
        self._task = task
        self._started = self._last_content_at = time.monotonic()
        self._arm()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stalled is not None and exc_type is asyncio.CancelledError:
            assert self._task is not None
            if self._task.uncancel() == 0:  # our cancellation, and no one else's: a stall
                raise self._stalled from exc

    def _arm(self) -> None:
        deadline = self._deadline()
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(_loop_time(deadline[0]), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        deadline = self._deadline()
        if deadline is None:
            return
        at, limit, seconds = deadline
        if time.monotonic() >= at:
            self._stalled = StreamStalled(limit, seconds)
            assert self._task is not None
            self._task.cancel()
        else:  # content arrived since the timer was set: wait for the new deadline
            self._arm()

    def _deadline(self) -> tuple[float, str, float] | None:
        """The nearest deadline (monotonic time), the limit's name and its seconds."""
        return self._timeouts.nearest_deadline(
            started=self._started,
            first_byte_at=self._first_byte_at,
            last_content_at=self._last_content_at,
            content_seen=self._content_seen,
        )


def _loop_time(monotonic_deadline: float) -> float:
    # The default loop clock is time.monotonic; convert anyway in case a loop uses another.
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_deadline - time.monotonic())
