"""Text deltas as a test's consumer receives them, with an event set once the answer is under way."""

from __future__ import annotations

import threading


class Texts(list):
    """Text deltas; `under_way` is set once a few arrived (an interrupt is sent on it, not on a timer)."""

    def __init__(self) -> None:
        super().__init__()
        self.under_way = threading.Event()

    def append(self, text: str) -> None:
        super().append(text)
        if len(self) >= 3:
            self.under_way.set()
