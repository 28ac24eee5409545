"""Where Herald keeps its data (sessions, memory) and its configuration.

By default the platform's conventional per-user directories (via `platformdirs`):
`~/.local/share/herald` and `~/.config/herald` on Linux, `~/Library/Application Support/herald`
on macOS, `%LOCALAPPDATA%\\herald` on Windows.

`HERALD_HOME` overrides both: data goes to `$HERALD_HOME/data`, configuration to
`$HERALD_HOME/config`. Tests point it at a temporary directory so they never touch the
real home directory; users can point it at a portable or synced location.

Directories are created on demand, readable by the owner only where the platform
supports permissions: they hold conversations, which may contain private material.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "herald"
HOME_ENV = "HERALD_HOME"


def _home_override() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def _ensure(path: Path) -> Path:
    # 0o700: conversations and memory are private; mode is ignored where unsupported.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The directory for Herald's data (session database, memory), created if missing."""
    home = _home_override()
    if home is not None:
        return _ensure(home / "data")
    return _ensure(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def config_dir() -> Path:
    """The directory for Herald's configuration files, created if missing."""
    home = _home_override()
    if home is not None:
        return _ensure(home / "config")
    return _ensure(Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)))
