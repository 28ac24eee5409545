"""Shared fixtures: a hermetic environment and one loopback fake provider per test run."""

from __future__ import annotations

from typing import Iterator

import pytest

from fakeprovider import FakeProvider

_PROVIDER_VARIABLES = (
    "HERALD_API_KEY", "HERALD_API_KEYS", "HERALD_BASE_URL", "HERALD_MODEL", "HERALD_API_MODE",
    "OPENROUTER_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL",
    "HERALD_STREAM_FIRST_BYTE_TIMEOUT", "HERALD_STREAM_IDLE_TIMEOUT", "HERALD_STREAM_TOTAL_TIMEOUT",
)


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's keys, or writes into their data directory."""
    for name in _PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HERALD_HOME", str(tmp_path_factory.mktemp("herald-home")))


@pytest.fixture(scope="session")
def _provider() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def fake(_provider: FakeProvider) -> Iterator[FakeProvider]:
    """The shared fake provider, emptied for this test."""
    _provider.clear()
    yield _provider
    _provider.clear()
