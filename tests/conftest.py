"""Shared fixtures: a hermetic environment and one loopback fake provider per test run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from fakeprovider import FakeProvider

_PROVIDER_VARIABLES = (
    "HERALD_API_KEY", "HERALD_API_KEYS", "HERALD_BASE_URL", "HERALD_MODEL", "HERALD_API_MODE",
    "OPENROUTER_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL",
    "HERALD_STREAM_FIRST_BYTE_TIMEOUT", "HERALD_STREAM_IDLE_TIMEOUT", "HERALD_STREAM_TOTAL_TIMEOUT",
)


TESTS = Path(__file__).resolve().parent
REFERENCE_CONTRACT = TESTS.parent.parent / "shared" / "spec" / "test_streaming_seed.py"
"""The reference contract, beside the clone (it is not part of the repository)."""
REQUIRE_CONTRACT_ENV = "HERALD_REQUIRE_CONTRACT"


def pytest_configure(config: pytest.Config) -> None:
    """A run of the whole suite includes the reference contract when it lies at ../shared/spec/.

    A plain clone has no ../shared, and the suite still runs; with HERALD_REQUIRE_CONTRACT=1
    (CI sets it) its absence is an error.
    """
    if not any(_resolved(arg) in (TESTS, TESTS.parent) for arg in config.args):
        return  # a single module or directory: just that
    if REFERENCE_CONTRACT.is_file():
        if all(_resolved(arg) != REFERENCE_CONTRACT for arg in config.args):
            config.args.append(str(REFERENCE_CONTRACT))
    elif os.environ.get(REQUIRE_CONTRACT_ENV) == "1":
        raise pytest.UsageError(f"{REQUIRE_CONTRACT_ENV}=1 but the reference contract is missing: {REFERENCE_CONTRACT}")


CONTRACT_ABSENT = "reference contract not run: ../shared/spec/test_streaming_seed.py is absent (a plain clone has none)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """A run of the whole suite without the reference contract says so, in one line."""
    if _whole_suite(config) and not REFERENCE_CONTRACT.is_file():
        terminalreporter.write_line(CONTRACT_ABSENT)


def _whole_suite(config: pytest.Config) -> bool:
    return any(_resolved(arg) in (TESTS, TESTS.parent) for arg in config.invocation_params.args if not arg.startswith("-"))


def _resolved(arg: str) -> Path:
    return Path(arg.split("::", 1)[0]).resolve()


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's keys or terminal size, or writes into their data directory."""
    for name in _PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # A terminal's size comes from the terminal: rich would take these over a test's pty
    # (pytest-xdist workers export both).
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
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
