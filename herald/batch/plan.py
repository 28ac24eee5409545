"""Resume: which attempt each sample needs next, from the rows already written.

Keyed by the sample's id and the attempt number, never by its text: two samples with the
same prompt are two samples. A completed id is never run again; a failed one runs again
until `max_attempts` attempts have failed; attempt numbers only grow, so no (id, attempt)
is written twice. An attempt that was in flight when the process died left no row, so it
simply runs again under the same number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from herald.batch.output import Attempt


@dataclass
class IdState:
    """What the output says about one id."""

    completed: bool = False
    failures: int = 0
    last_attempt: int = 0


class ResumePlan:
    """The state of every id seen in the output, updated as new rows are written.

    Args:
        attempts: the rows found on start.
        max_attempts: failed attempts after which an id has ended failed.
    """

    def __init__(self, attempts: Iterable[Attempt], max_attempts: int) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self._ids: dict[str, IdState] = {}
        for attempt in attempts:
            self.record(attempt.key, attempt.attempt, attempt.status)

    def record(self, key: str, attempt: int, status: str) -> None:
        """Note a finished attempt (a row written now, or found on start)."""
        state = self._ids.setdefault(key, IdState())
        state.last_attempt = max(state.last_attempt, attempt)
        if status in ("completed", "limited"):  # a limit is the user's: final, as an answer is
            state.completed = True
        else:
            state.failures += 1

    def next_attempt(self, key: str) -> int | None:
        """The attempt number to run for `key` next, or None when it needs none."""
        state = self._ids.get(key)
        if state is None:
            return 1
        if state.completed or state.failures >= self.max_attempts:
            return None
        return state.last_attempt + 1

    def state(self, key: str) -> IdState:
        """What is known of `key` (an empty state for an id never run)."""
        return self._ids.get(key) or IdState()

    def keys(self) -> set[str]:
        """Every id the output mentions."""
        return set(self._ids)
