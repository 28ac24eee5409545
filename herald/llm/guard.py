"""Run one blocking request in a worker thread so the caller can let go of it at once.

A blocked socket read cannot be interrupted from another thread, so the request runs in
a daemon worker and the caller waits on an event. On interrupt or stall the caller
abandons the worker (its deliveries are cut off), closes the request's own client, and
returns immediately; the worker dies when its closed connection errors out.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, TypeVar

from herald.errors import Interrupted, StreamStalled
from herald.llm.timeouts import StreamTimeouts

T = TypeVar("T")

_NO_LIMITS = StreamTimeouts(first_byte=None, idle=None, total=None)


class RequestGuard(Generic[T]):
    """Watches one in-flight request for interrupts and stalls.

    The worker reports progress with `touch()`; the caller blocks in `run()`.
    """

    def __init__(
        self,
        *,
        timeouts: StreamTimeouts | None = None,
        is_interrupted: Callable[[], bool] = lambda: False,
        on_abandon: Callable[[], object] = lambda: None,
        name: str = "herald-request",
    ) -> None:
        self._timeouts = timeouts or _NO_LIMITS
        self._is_interrupted = is_interrupted
        self._on_abandon = on_abandon
        self._name = name
        self._wake = threading.Event()
        self._started = 0.0
        self._first_byte_at: float | None = None
        self._last_content_at = 0.0
        self._content_seen = False
        self._result: T | None = None
        self._error: BaseException | None = None
        self._done = False
        self.abandoned = False

    def touch(self, *, content: bool) -> None:
        """The worker received a chunk; `content` when it carried text, reasoning or a tool call."""
        now = time.monotonic()
        if self._first_byte_at is None:
            self._first_byte_at = now
            self._last_content_at = now
            self._wake.set()  # the caller now sleeps until the idle deadline, not the first-byte one
        if content:
            self._last_content_at = now
            self._content_seen = True

    @property
    def got_a_byte(self) -> bool:
        """Whether the worker reported any chunk yet."""
        return self._first_byte_at is not None

    @property
    def first_chunk_s(self) -> float | None:
        """Seconds from sending the request to its first chunk (None: none arrived)."""
        return None if self._first_byte_at is None else round(self._first_byte_at - self._started, 6)

    def wake(self) -> None:
        """Make `run()` re-check its state now (called by `interrupt()` from any thread)."""
        self._wake.set()

    def run(self, work: Callable[[RequestGuard[T]], T]) -> T:
        """Run `work(self)` in a worker; return its result or raise its error.

        Raises:
            Interrupted: the interrupt flag was raised while waiting.
            StreamStalled: a time limit passed without progress.
        """
        self._started = self._last_content_at = time.monotonic()
        worker = threading.Thread(target=self._work, args=(work,), name=self._name, daemon=True)
        worker.start()
        while True:
            if self._done:
                if self._error is not None:
                    raise self._error
                return self._result  # type: ignore[return-value]
            if self._is_interrupted():
                self._abandon()
                raise Interrupted()
            stalled, wait = self._check_limits(time.monotonic())
            if stalled is not None:
                self._abandon()
                raise stalled
            self._wake.wait(wait)
            self._wake.clear()

    def _work(self, work: Callable[[RequestGuard[T]], T]) -> None:
        try:
            self._result = work(self)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
        finally:
            self._done = True
            self._wake.set()

    def _check_limits(self, now: float) -> tuple[StreamStalled | None, float | None]:
        """The exceeded limit, if any, and how long to sleep until the next one could be."""
        nearest = self._timeouts.nearest_deadline(
            started=self._started,
            first_byte_at=self._first_byte_at,
            last_content_at=self._last_content_at,
            content_seen=self._content_seen,
        )
        if nearest is None:
            return None, None
        deadline, limit, seconds = nearest
        if now >= deadline:
            return StreamStalled(limit, seconds), None
        return None, deadline - now

    def _abandon(self) -> None:
        self.abandoned = True
        self._on_abandon()
