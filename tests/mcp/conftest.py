"""Real MCP servers for the tests: `demo_server.py` over stdio, Streamable HTTP and SSE.

The `mcp` extra is required: without it these tests skip on a developer's machine and FAIL
in CI (`CI` or `HERALD_REQUIRE_MCP` set), so a missing install step cannot pass as green.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from herald.mcp import mcp_available

if not mcp_available():
    if os.environ.get("CI") or os.environ.get("HERALD_REQUIRE_MCP"):
        raise RuntimeError("the MCP tests need the mcp extra: pip install -e '.[mcp]'")
    pytest.skip("the MCP tests need pip install -e '.[mcp]'", allow_module_level=True)

from demo_helpers import DEMO  # noqa: E402 - after the extra is known to be there


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"


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


@pytest.fixture
def http_demo() -> Iterator[Callable[..., HTTPDemo]]:
    started: list[HTTPDemo] = []

    def start(kind: str = "http", port: int = 0) -> HTTPDemo:
        server = HTTPDemo(kind, port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
