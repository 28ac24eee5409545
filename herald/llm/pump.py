"""Feed a stream's events to a reader while reporting progress to the request guard."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from herald.llm.guard import RequestGuard


def pump(events: Iterable[Any], handle: Callable[[Any], bool], guard: RequestGuard[Any] | None) -> None:
    """Call `handle(event)` (True = it carried content) for each event until the guard lets go.

    The guard's waiting thread sleeps towards the first-byte deadline and `touch()` does not
    wake it, so without a wake on the first event the idle limit would only be checked once
    the (long) first-byte limit expired: a stream stalling mid-answer would hang that long.
    """
    first = True
    for event in events:
        content = handle(event)
        if guard is None:
            continue
        guard.touch(content=content)
        if first:
            first = False
            guard.wake()
        if guard.abandoned:
            break
