"""Every session test gets its own HERALD_HOME, so nothing touches the real data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from herald.sessions import SessionStore


@pytest.fixture(autouse=True)
def herald_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "herald-home"
    monkeypatch.setenv("HERALD_HOME", str(home))
    return home


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s
