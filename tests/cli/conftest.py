"""Shared fixtures for the terminal display tests."""

from __future__ import annotations

import io

import pytest
from rich.console import Console


class FakeClock:
    """A manual clock so frame throttling is deterministic."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_console(width: int = 60, height: int = 20, color: bool = False) -> Console:
    """A terminal-like console writing to a string buffer."""
    return Console(
        file=io.StringIO(),
        width=width,
        height=height,
        force_terminal=True,
        color_system="truecolor" if color else None,
        legacy_windows=False,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
