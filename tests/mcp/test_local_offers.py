"""The local model is offered what `herald config` says: no toolsets means no MCP tools either."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import herald.local
from demo_helpers import DEMO
from fakeprovider import FakeProvider, Reply
from herald.cli.commands import show_config
from herald.cli.config import load_settings
from herald.cli.local import local_settings
from herald.cli.wiring import DisplayBridge, make_agent, make_display


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: True)
    path = tmp_path / "config.toml"
    path.write_text(f'[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(DEMO))}]\n')
    return path


def offered_tools(flags: dict, config: Path, fake: FakeProvider) -> list[str]:
    """The tool names the first request of a one-shot turn on the local settings offered."""
    settings = load_settings(flags, environ={}, path=config)
    assert settings.local  # nothing but MCP configured: the local default
    ready = local_settings(settings, base_url=fake.base_url, model="local-model", n_ctx=4096)
    display = make_display(ready, tty=False, out=io.StringIO(), err=io.StringIO())
    agent = make_agent(ready, DisplayBridge(display), approval=None)
    fake.enqueue(Reply(text="Paris."))
    try:
        assert agent.run_conversation("What is the capital of France?")["final_response"] == "Paris."
    finally:
        agent.close()
    return [tool["function"]["name"] for tool in fake.requests[0].body.get("tools") or []]


def test_no_toolsets_means_no_mcp_tools_for_the_local_model(fake: FakeProvider, config: Path) -> None:
    assert offered_tools({}, config, fake) == []


def test_asking_for_tools_offers_the_mcp_servers_too(fake: FakeProvider, config: Path) -> None:
    tools = offered_tools({"toolsets": "file"}, config, fake)
    assert any(name.startswith("mcp__demo__") for name in tools) and "read_file" in tools


def test_herald_config_says_what_is_offered(config: Path) -> None:
    lines: list[str] = []
    show_config(load_settings({}, environ={}, path=config), lines.append)
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["toolsets"].split()[1] == "none"
    assert rows["mcp_servers"].split()[1] == "none" and "demo configured" in rows["mcp_servers"]
