"""Helpers for the MCP tests (a module of its own: `tests/mcp` is on sys.path, not a package,
so that it cannot shadow the `mcp` package)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

DEMO = Path(__file__).with_name("demo_server.py")


def demo(name: str = "demo", **options: Any) -> dict[str, Any]:
    """Herald's config table for a stdio demo server."""
    return {name: {"command": sys.executable, "args": [str(DEMO)], **options}}


def pid_alive(pid: int) -> bool:
    """Does process `pid` still exist (a zombie counts as gone: it has exited)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def wait_gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)
