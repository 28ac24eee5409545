"""Plays a StreamPlan onto a connection, applying the reply's stream fault."""

from __future__ import annotations

import time
from typing import Protocol

from .script import Reply
from .sse import CONTENT, FINISH, StreamPlan

# Faults that strike at a position in the stream (after `fault_after` content chunks).
_POSITIONED = frozenset(
    {"cut", "reset", "malformed", "inband_error", "stall", "keepalive_stall", "incomplete", "failed", "error_finish"}
)
KEEPALIVE_INTERVAL = 0.2


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...  # buffers
    def flush(self) -> None: ...  # puts buffered bytes on the wire


class Stop(Protocol):
    def wait(self, seconds: float) -> bool: ...  # True: abandon the stream (server closing, client gone)


class Stopped(Exception):
    """The server is shutting down; abandon the stream."""


def play(sink: Sink, plan: StreamPlan, reply: Reply, fault: str | None, stop: Stop) -> bool:
    """Write the stream; return True when the connection must be dropped without a clean end."""
    events = plan.events
    if fault == "no_finish":
        events = [e for e in events if e.kind != FINISH]
    pos = plan.fault_position(reply.fault_after) if fault in _POSITIONED else len(events)

    def send(start: int, end: int) -> None:
        for event in events[start:end]:
            sink.write(event.data)
            if reply.delay > 0 and event.kind == CONTENT:
                # Paced streams flush every chunk so the client sees real timing.
                sink.flush()
                if stop.wait(reply.delay):
                    raise Stopped
        # Unpaced streams are written in one go: benchmarks push tens of thousands of chunks.

    try:
        send(0, pos)
        if fault in ("cut", "reset"):
            sink.flush()
            return True
        if fault == "malformed":
            sink.write(plan.malformed)
        elif fault == "inband_error":
            sink.write(plan.inband_error(pos))
            return False
        elif fault is not None and fault in plan.terminal:
            sink.write(plan.terminal[fault](pos))
            return False
        elif fault == "stall":
            sink.flush()
            if stop.wait(reply.stall_seconds):
                raise Stopped
        elif fault == "keepalive_stall":
            _keepalive(sink, plan.keepalive, reply.stall_seconds, stop)
        send(pos, len(events))
        return False
    except Stopped:
        return True


def _keepalive(sink: Sink, tick: bytes, seconds: float, stop: Stop) -> None:
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        sink.write(tick)
        sink.flush()
        if stop.wait(min(KEEPALIVE_INTERVAL, remaining)):
            raise Stopped
