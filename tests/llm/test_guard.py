"""The request guard lets go at once on interrupt and on each stall limit."""

import threading
import time

import pytest

from herald.errors import Interrupted, StreamStalled
from herald.llm.guard import RequestGuard
from herald.llm.timeouts import StreamTimeouts


def blocked_until(event):
    def work(guard):
        event.wait(5)
        return "late"

    return work


def test_returns_the_work_result_and_raises_its_error():
    assert RequestGuard().run(lambda g: 42) == 42
    with pytest.raises(ValueError):
        RequestGuard().run(lambda g: (_ for _ in ()).throw(ValueError("x")))


def test_interrupt_lets_go_of_a_blocked_worker_and_calls_on_abandon():
    flag = threading.Event()
    release = threading.Event()
    abandoned = []
    guard = RequestGuard(is_interrupted=flag.is_set, on_abandon=lambda: abandoned.append(True))

    def interrupt():
        flag.set()
        guard.wake()

    threading.Timer(0.05, interrupt).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        guard.run(blocked_until(release))
    assert time.monotonic() - started < 0.5
    assert abandoned == [True] and guard.abandoned
    release.set()


@pytest.mark.parametrize("limits, expected", [
    (StreamTimeouts(first_byte=0.1, idle=None, total=None), "first_byte"),
    (StreamTimeouts(first_byte=None, idle=None, total=0.1), "total"),
])
def test_first_byte_and_total_limits(limits, expected):
    release = threading.Event()
    with pytest.raises(StreamStalled) as caught:
        RequestGuard(timeouts=limits).run(blocked_until(release))
    assert caught.value.limit == expected
    release.set()


def test_idle_limit_counts_only_chunks_with_content():
    release = threading.Event()

    def keepalives(guard):
        guard.touch(content=True)
        while not release.is_set():
            guard.touch(content=False)  # keep-alives must not reset the idle timer
            time.sleep(0.01)
        return "never"

    with pytest.raises(StreamStalled) as caught:
        RequestGuard(timeouts=StreamTimeouts(first_byte=None, idle=0.15, total=None)).run(keepalives)
    assert caught.value.limit == "idle"
    release.set()


def test_steady_content_is_not_a_stall():
    def steady(guard):
        for _ in range(20):
            guard.touch(content=True)
            time.sleep(0.01)
        return "done"

    assert RequestGuard(timeouts=StreamTimeouts(first_byte=0.1, idle=0.1, total=None)).run(steady) == "done"


def test_idle_limit_applies_after_a_long_first_byte_limit():
    # The caller first sleeps toward the long first-byte deadline; the first chunk must wake it.
    release = threading.Event()

    def one_chunk_then_silence(guard):
        guard.touch(content=True)
        release.wait(5)
        return "never"

    started = time.monotonic()
    with pytest.raises(StreamStalled) as caught:
        RequestGuard(timeouts=StreamTimeouts(first_byte=10, idle=0.15, total=None)).run(one_chunk_then_silence)
    assert caught.value.limit == "idle" and time.monotonic() - started < 1
    release.set()
