"""Every context test gets its own HERALD_HOME, so nothing touches the real data directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def herald_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "herald-home"
    monkeypatch.setenv("HERALD_HOME", str(home))
    return home
