"""Fixtures for the local-provider unit tests (no llama_cpp needed)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    """A file that passes the GGUF magic check."""
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 60)
    return path


@pytest.fixture
def herald_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HERALD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def extra_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend llama-cpp-python is installed (the fake server doesn't need it)."""
    monkeypatch.setattr("herald.local.server.local_extra_available", lambda: True)
