"""Small statistics and timing helpers shared by the benchmark sections."""

from __future__ import annotations

import gc
import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds of one run (CPU = every thread of this process)."""

    wall: float
    cpu: float


def timed(fn: Callable[[], object]) -> Timing:
    """Time one call of `fn`, after a full collection so earlier runs' garbage is not billed to it."""
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    return Timing(wall=time.perf_counter() - wall0, cpu=time.process_time() - cpu0)


def interleaved(contenders: dict[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Run every contender once per round, alternating the order each round (ABC, CBA, …),
    so slow drift in the machine's speed is shared out evenly. Returns each one's results."""
    names = list(contenders)
    results: dict[str, list[T]] = {name: [] for name in names}
    for round_no in range(rounds):
        order = names if round_no % 2 == 0 else names[::-1]
        for name in order:
            results[name].append(contenders[name]())
    return results
