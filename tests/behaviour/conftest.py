"""The behaviour suite's fixtures: `agent_kind` ("sync" | "async"), `harness`, and extra providers.

The adapter that drives each agent is in `agents_under_test.py` (its docstring says how).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from agents_under_test import KINDS, Harness
from fakeprovider import FakeProvider


@pytest.fixture(params=KINDS)
def agent_kind(request: pytest.FixtureRequest) -> str:
    """Which agent the test body runs against: "sync" (`AIAgent`) or "async" (`AsyncAIAgent`)."""
    return str(request.param)


@pytest.fixture
def harness(agent_kind: str, tmp_path: Path) -> Iterator[Harness]:
    made = Harness(agent_kind, tmp_path)
    yield made
    made.close()


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    """A second provider of the test's own (a fallback)."""
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def third() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def own_fake() -> Iterator[FakeProvider]:
    """A provider no other test touched (its open connections are this test's only)."""
    with FakeProvider() as provider:
        yield provider
