"""Herald's data directory.

Temporary private copy of the rule `herald.paths.data_dir()` implements on another branch:
`$HERALD_HOME/data` when HERALD_HOME is set, else the platform's user data dir. Replace
uses of `data_dir` here with `herald.paths.data_dir` once that module lands.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Where Herald keeps downloaded or assembled data (created on demand by callers)."""
    home = os.environ.get("HERALD_HOME")
    if home:
        return Path(home).expanduser() / "data"
    return Path(platformdirs.user_data_dir("herald"))
