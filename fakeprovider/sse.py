"""SSE encoding and the wire-neutral stream plan that faults are applied to."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Event kinds. Only "content" events count towards Reply.fault_after.
HEAD = "head"  # preamble (response.created, message_start)
CONTENT = "content"  # a text / reasoning / tool-argument delta
STRUCT = "struct"  # structural events between deltas (block start/stop, item added/done)
FINISH = "finish"  # carries the finish reason / terminal event; dropped by "no_finish"
END = "end"  # clean terminators kept even by "no_finish" (usage chunk, [DONE])

KEEPALIVE_COMMENT = b": keep-alive\n\n"


def dumps(obj: Any) -> str:
    # Compact separators: benchmarks stream tens of thousands of events.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def data_line(obj: Any) -> bytes:
    """An unnamed SSE event (`data: JSON`), as the chat completions wire uses."""
    return b"data: " + dumps(obj).encode() + b"\n\n"


def named(name: str, obj: Any) -> bytes:
    """A named SSE event (`event: NAME` + `data: JSON`), as Responses and Anthropic use."""
    return b"event: " + name.encode() + b"\ndata: " + dumps(obj).encode() + b"\n\n"


@dataclass
class Event:
    data: bytes
    kind: str
    item: dict[str, Any] | None = None  # a finished output item (Responses), for partial outputs


@dataclass
class StreamPlan:
    """The full, fault-free event sequence of one streamed reply plus the wire's fault events.

    Fault event factories take `pos`, the index in `events` where the fault strikes, so
    wires that number their events (Responses `sequence_number`) can stay consistent.
    """

    events: list[Event]
    malformed: bytes
    inband_error: Callable[[int], bytes]
    keepalive: bytes = KEEPALIVE_COMMENT
    terminal: dict[str, Callable[[int], bytes]] = field(default_factory=dict)

    def fault_position(self, fault_after: int) -> int:
        """Index before the (fault_after+1)-th content event, or before the finish section."""
        seen = 0
        for index, event in enumerate(self.events):
            if event.kind == CONTENT:
                if seen == fault_after:
                    return index
                seen += 1
            elif event.kind in (FINISH, END):
                return index
        return len(self.events)

    def done_items(self, pos: int) -> list[dict[str, Any]]:
        return [e.item for e in self.events[:pos] if e.item is not None]


@dataclass
class Ctx:
    """What a wire encoder needs to know about the request being answered."""

    model: str
    uid: str  # unique per request, used to build response / message ids
    created: int
    body: dict[str, Any]
