"""MCP servers over Streamable HTTP (and legacy SSE) on 127.0.0.1, in their own processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from demo_helpers import HTTPDemo
from herald.mcp import parse_mcp_servers
from herald.mcp.manager import MCPManager

SECRET = "hdr-secret-0123456789"


def http_manager(log_dir: Path, url: str, **options) -> MCPManager:
    table = {"web": {"url": url, "headers": {"Authorization": f"Bearer {SECRET}"}, **options}}
    return MCPManager(parse_mcp_servers(table), log_dir=log_dir)


def test_streamable_http_server_tools_and_calls(log_dir: Path, http_demo: Callable[..., HTTPDemo]):
    server = http_demo("http")
    with http_manager(log_dir, server.url) as m:
        (status,) = m.statuses()
        assert (status.state, status.transport, status.target) == ("connected", "http", server.url)
        assert "mcp__web__echo" in {t.name for t in m.tools()}
        assert m.call("web", "echo", {"text": "over http"}).text == "over http"
        assert m.call("web", "add", {"a": 2, "b": 3}).text == '{\n  "sum": 5\n}'
    assert SECRET not in (log_dir / "mcp-web.log").read_text()


def test_headers_may_name_environment_variables(log_dir: Path, http_demo, monkeypatch):
    server = http_demo("http")
    monkeypatch.setenv("WEB_TOKEN", SECRET)
    table = {"web": {"url": server.url, "headers": {"Authorization": "Bearer ${WEB_TOKEN}"}},
             "unset": {"url": server.url, "headers": {"Authorization": "Bearer ${NOT_SET_ANYWHERE}"}}}
    with MCPManager(parse_mcp_servers(table), log_dir=log_dir) as m:
        web, unset = m.statuses()
    assert web.state == "connected"
    assert (unset.state, unset.error) == ("failed", "environment variable NOT_SET_ANYWHERE is not set")


def test_nothing_listening_is_a_failed_status(log_dir: Path, http_demo):
    server = http_demo("http")
    url = server.url
    server.kill()  # the port is known to be free now
    with http_manager(log_dir, url) as m:
        (status,) = m.statuses()
    assert status.state == "failed" and status.error.startswith(f"cannot connect to {url}")
    assert SECRET not in status.error


def test_a_server_killed_mid_call_then_back_is_reconnected(log_dir: Path, http_demo):
    server = http_demo("http")
    with http_manager(log_dir, server.url) as m:
        first = int(m.call("web", "pid", {}).text)
        threading.Timer(0.5, server.kill).start()
        started = time.monotonic()
        outcome = m.call("web", "slow", {"seconds": 30})
        assert time.monotonic() - started < 10
        assert not outcome.ok and "stopped answering" in outcome.text
        down = m.call("web", "pid", {})
        assert not down.ok and "MCP server 'web' is unavailable: cannot connect" in down.text
        http_demo("http", port=server.port)  # the same address again, a new process
        back = m.call("web", "pid", {})
        assert back.ok and int(back.text) != first


def test_http_call_timeout(log_dir: Path, http_demo):
    server = http_demo("http")
    with http_manager(log_dir, server.url, timeout=1) as m:
        outcome = m.call("web", "slow", {"seconds": 30})
        assert not outcome.ok and "timed out after 1 s" in outcome.text
        assert m.call("web", "echo", {"text": "fine"}).text == "fine"


def test_legacy_sse_server(log_dir: Path, http_demo):
    server = http_demo("sse")
    with http_manager(log_dir, server.url, type="sse") as m:
        (status,) = m.statuses()
        assert status.state == "connected", status.error
        assert m.call("web", "echo", {"text": "over sse"}).text == "over sse"
