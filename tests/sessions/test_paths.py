"""herald.paths: HERALD_HOME override and platform defaults, created on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald import paths


def test_herald_home_overrides_both(herald_home: Path) -> None:
    assert not herald_home.exists()
    assert paths.data_dir() == herald_home / "data"
    assert paths.config_dir() == herald_home / "config"
    assert paths.data_dir().is_dir() and paths.config_dir().is_dir()


def test_herald_home_expands_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HERALD_HOME", "~/h")
    assert paths.data_dir() == tmp_path / "h" / "data"


def test_platform_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HERALD_HOME")
    seen: list[str] = []

    def fake(kind: str):  # type: ignore[no-untyped-def]
        def resolve(appname: str, appauthor: object = None) -> str:
            seen.append(appname)
            return str(tmp_path / kind / appname)

        return resolve

    monkeypatch.setattr(paths.platformdirs, "user_data_dir", fake("share"))
    monkeypatch.setattr(paths.platformdirs, "user_config_dir", fake("config"))
    assert paths.data_dir() == tmp_path / "share" / "herald"
    assert paths.config_dir() == tmp_path / "config" / "herald"
    assert seen == ["herald", "herald"]
    assert (tmp_path / "share" / "herald").is_dir()


def test_blank_herald_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HERALD_HOME", "  ")
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda appname, appauthor=None: str(tmp_path / "d"))
    assert paths.data_dir() == tmp_path / "d"
