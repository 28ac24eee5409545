"""The real `herald` program with MCP servers in its config.toml: `herald mcp list`, the startup
warning, MCP tools in a one-shot answer, `/tools` in a chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from demo_helpers import DEMO
from fakeprovider import FakeProvider, Reply, ToolCallSpec

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-mcp-cli-0123456789abcdef"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    return tmp_path


def write_config(home: Path, text: str) -> None:
    (home / "config" / "config.toml").write_text(text)


def demo_table(name: str = "demo", extra: str = "") -> str:
    return f'[mcp_servers.{name}]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(DEMO))}]\n{extra}\n'


def env_for(home: Path, fake: FakeProvider | None = None) -> dict[str, str]:
    env = dict(os.environ, HERALD_HOME=str(home), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
               TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    if fake is not None:
        env.update(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model")
    return env


def herald(home: Path, *args: str, fake: FakeProvider | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "herald", *args], capture_output=True, text=True, timeout=120,
                          env=env_for(home, fake), cwd=home, stdin=subprocess.DEVNULL)


def test_mcp_list_shows_servers_states_and_tools(home: Path, fake: FakeProvider):
    (home / "config" / "claude.json").write_text(json.dumps({"mcpServers": {"gone": {"command": "no-such-mcp-server-x"}}}))
    write_config(home, 'mcp_config = "claude.json"\n' + demo_table(extra='include = ["echo", "write_note"]')
                 + '[mcp_servers.off]\ncommand = "x"\nenabled = false\n')
    done = herald(home, "mcp", "list")
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr  # one enabled server is down
    assert lines[0] == f"gone: failed · stdio no-such-mcp-server-x · from {home / 'config' / 'claude.json'}"
    assert lines[1] == f"  command not found: no-such-mcp-server-x (log: {home / 'data' / 'logs' / 'mcp-gone.log'})"
    assert lines[2].startswith("demo: connected, 2 tools, 11 filtered out · stdio ")
    assert lines[3:5] == ["  mcp__demo__echo  (read-only)", "  mcp__demo__write_note  (asks first)"]
    assert lines[5].startswith("off: disabled")
    assert "demo stderr" not in done.stdout + done.stderr
    assert herald(home, "mcp").stdout == done.stdout
    shown = [line for line in herald(home, "config").stdout.splitlines() if line.startswith("mcp_servers")]
    # No provider is configured, so the local model runs, and it is offered no tools: MCP's neither.
    assert len(shown) == 1 and shown[0].split()[1] == "none" and "not offered (gone, demo, off configured)" in shown[0]
    shown = [line for line in herald(home, "config", fake=fake).stdout.splitlines() if line.startswith("mcp_servers")]
    assert len(shown) == 1 and "gone, demo, off (disabled)" in shown[0] and "claude.json" in shown[0]


def test_mcp_list_without_servers_and_with_a_bad_table(home: Path):
    done = herald(home, "mcp", "list")
    assert done.returncode == 0 and done.stdout.startswith("no MCP servers configured")
    write_config(home, '[mcp_servers.fs]\ncommand = "x"\ntimeout = -1\n')
    done = herald(home, "mcp", "list")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"herald: error: {home / 'config' / 'config.toml'}: "
                                   "mcp_servers.fs: timeout must be a number of seconds above 0, not -1")


def test_one_shot_uses_mcp_tools_and_warns_once_about_a_broken_server(home: Path, fake: FakeProvider):
    write_config(home, demo_table() + '[mcp_servers.broken]\ncommand = "no-such-mcp-server-y"\n')
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("mcp__demo__echo", json.dumps({"text": "from the server"}))]),
                 Reply(text="The server said hello."))
    done = herald(home, "-q", "ask the server", fake=fake)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The server said hello.\n"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[1] == '⚙ mcp__demo__echo {"text": "from the server"}' and lines[2].startswith("✓ mcp__demo__echo ")
    assert len(lines) == 3, done.stderr  # the warning once, the tool's progress, nothing from the server
    assert lines[:1] == [f"herald: warning: MCP server 'broken' is unavailable: command not found: no-such-mcp-server-y "
                        f"(log: {home / 'data' / 'logs' / 'mcp-broken.log'})"]
    tool_message = fake.requests[1].body["messages"][-1]
    assert (tool_message["role"], tool_message["content"]) == ("tool", "from the server")
    assert "demo stderr: echo 'from the server'" in (home / "data" / "logs" / "mcp-demo.log").read_text()


def test_slash_tools_lists_mcp_tools_by_server(home: Path, fake: FakeProvider):
    write_config(home, demo_table(extra='include = ["echo", "pid"]') + '[mcp_servers.broken]\ncommand = "no-such-mcp-server-z"\n')
    child = pexpect.spawn(sys.executable, ["-m", "herald"], env=env_for(home, fake), dimensions=(40, 160),
                          encoding="utf-8", timeout=60, cwd=str(home))
    try:
        child.expect("MCP server 'broken' is unavailable")
        child.expect("›")
        child.sendline("/tools")
        child.expect(r"mcp demo: connected, 2 tools")
        child.expect("mcp__demo__echo")
        child.expect("mcp__demo__pid")
        child.expect(r"mcp broken: failed")
        child.expect("command not found: no-such-mcp-server-z")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
