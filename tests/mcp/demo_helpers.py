"""Helpers for the MCP tests (a module of its own: `tests/mcp` is on sys.path, not a package,
so that it cannot shadow the `mcp` package)."""

from __future__ import annotations

import os
import signal
import subprocess
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


class HTTPDemo:
    """A demo server process listening on 127.0.0.1 (Streamable HTTP or SSE)."""

    def __init__(self, kind: str, port: int = 0) -> None:
        self.kind = kind
        self.port = port
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> HTTPDemo:
        env = {**os.environ, "DEMO_PORT": str(self.port)}
        self.process = subprocess.Popen(
            [sys.executable, str(DEMO), self.kind], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"demo server did not start: {line!r}"
        self.port = int(line.split()[1])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{'sse' if self.kind == 'sse' else 'mcp'}"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
