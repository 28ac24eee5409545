"""Real MCP servers for the tests: `demo_server.py` over stdio, Streamable HTTP and SSE.

The `mcp` extra is required: without it these tests skip on a developer's machine and FAIL
in CI (`CI` or `HERALD_REQUIRE_MCP` set), so a missing install step cannot pass as green.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from herald.mcp import mcp_available

if not mcp_available():
    if os.environ.get("CI") or os.environ.get("HERALD_REQUIRE_MCP"):
        raise RuntimeError("the MCP tests need the mcp extra: pip install -e '.[mcp]'")
    pytest.skip("the MCP tests need pip install -e '.[mcp]'", allow_module_level=True)

from demo_helpers import HTTPDemo  # noqa: E402 - after the extra is known to be there


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"


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
