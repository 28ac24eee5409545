"""MCP servers over stdio, started by the tests: tools, results, timeouts, deaths, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from herald.mcp import parse_mcp_servers
from herald.mcp.manager import MCPManager

from demo_helpers import demo, pid_alive, wait_gone


def manager(log_dir: Path, **servers: dict) -> MCPManager:
    """Demo servers named by the keywords, each with its options."""
    table: dict = {}
    for name, options in servers.items():
        table.update(demo(name, **options))
    return MCPManager(parse_mcp_servers(table), log_dir=log_dir)


def call(m: MCPManager, tool: str, server: str = "demo", **args):
    return m.call(server, tool, args)


def server_pid(m: MCPManager, server: str = "demo") -> int:
    outcome = call(m, "pid", server)
    assert outcome.ok, outcome.text
    return int(outcome.text)


def test_tools_are_offered_with_prefixed_names_and_the_servers_schema(log_dir: Path):
    with manager(log_dir, demo={}) as m:
        (status,) = m.statuses()
        assert status.state == "connected" and status.error == ""
        tools = {t.name: t for t in m.tools()}
        assert {"mcp__demo__echo", "mcp__demo__write_note", "mcp__demo__dotted_name"} <= set(tools)
        echo = tools["mcp__demo__echo"]
        assert (echo.server, echo.remote_name, echo.read_only, echo.asks) == ("demo", "echo", True, False)
        parameters = echo.schema["function"]["parameters"]
        assert parameters["properties"]["text"]["type"] == "string" and parameters["required"] == ["text"]
        assert echo.schema["function"]["description"] == "Say `text` back."
        assert tools["mcp__demo__write_note"].asks and not tools["mcp__demo__write_note"].read_only
        assert tools["mcp__demo__dotted_name"].remote_name == "dotted.name"


def test_results_become_text(log_dir: Path):
    with manager(log_dir, demo={}) as m:
        assert call(m, "echo", text="hi").text == "hi"
        assert call(m, "dotted.name").text == "dotted ok"
        assert call(m, "stats").text == '{"files": 3, "names": ["a", "b"]}'
        assert call(m, "picture").text == "a picture:\n[image: image/png, 11 bytes]"
        assert call(m, "maybe", value="v").text == "value=v count=None"
        failed = call(m, "fail", why="bad input")
        assert not failed.ok and failed.text.startswith("Error: fail failed:")


def test_env_and_cwd_reach_the_server(log_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DEMO_SECRET_SOURCE", "from-the-environment")
    (tmp_path / "sub").mkdir()
    servers = demo("a", env={"GREETING": "hello", "TOKEN": "${DEMO_SECRET_SOURCE}"}) | demo("b", cwd="sub")
    with MCPManager(parse_mcp_servers(servers), cwd=tmp_path, log_dir=log_dir) as m:
        assert call(m, "getenv", "a", name="GREETING").text == "hello"
        assert call(m, "getenv", "a", name="TOKEN").text == "from-the-environment"
        assert call(m, "where", "a").text == str(tmp_path.resolve())
        assert call(m, "where", "b").text == str((tmp_path / "sub").resolve())


def test_stderr_goes_to_the_log_file_never_the_screen(log_dir: Path, capfd: pytest.CaptureFixture[str]):
    with manager(log_dir, demo={"env": {"TOKEN": "env-secret-value"}}) as m:
        assert call(m, "echo", text="noisy").ok
        call(m, "fail", why="loud failure")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    text = (log_dir / "mcp-demo.log").read_text()
    assert "demo stderr: echo 'noisy'" in text  # the server's own stderr
    assert "herald: starting stdio server:" in text and "herald: connected" in text
    assert "env-secret-value" not in text


def test_include_and_exclude_filter_the_tools(log_dir: Path):
    with manager(log_dir, demo={"include": ["echo", "write_*", "pid"], "exclude": ["write_note"]}) as m:
        assert sorted(t.name for t in m.tools()) == ["mcp__demo__echo", "mcp__demo__pid"]
        (status,) = m.statuses()
        assert status.filtered_out == 11 and [t.name for t in status.tools] == ["mcp__demo__echo", "mcp__demo__pid"]


def test_a_missing_command_is_one_failed_status_and_the_rest_works(log_dir: Path):
    servers = {"gone": {"command": "no-such-mcp-server-command"}, **demo()}
    started = time.monotonic()
    with MCPManager(parse_mcp_servers(servers), log_dir=log_dir) as m:
        gone, ok = m.statuses()
        assert (gone.state, gone.error) == ("failed", "command not found: no-such-mcp-server-command")
        assert ok.state == "connected"
        assert all(t.server == "demo" for t in m.tools())
        again = call(m, "echo", "gone", text="x")
        assert not again.ok and "MCP server 'gone' is unavailable: command not found" in again.text
    assert time.monotonic() - started < 30
    assert "could not start: command not found" in (log_dir / "mcp-gone.log").read_text()


def test_a_server_that_never_answers_fails_after_connect_timeout(log_dir: Path):
    silent = {"mute": {"command": sys.executable, "args": ["-c", "import time; time.sleep(60)"], "connect_timeout": 1}}
    started = time.monotonic()
    with MCPManager(parse_mcp_servers(silent), log_dir=log_dir) as m:
        (status,) = m.statuses()
    assert status.state == "failed" and status.error == "no answer within 1 s (connect_timeout)"
    assert time.monotonic() - started < 15


def test_a_server_that_exits_at_startup_is_reported(log_dir: Path):
    crash = {"crash": {"command": sys.executable, "args": ["-c", "import sys; print('bad config', file=sys.stderr); sys.exit(3)"]}}
    with MCPManager(parse_mcp_servers(crash), log_dir=log_dir) as m:
        (status,) = m.statuses()
    assert status.state == "failed" and "exited before it was ready" in status.error
    assert "bad config" in (log_dir / "mcp-crash.log").read_text()


def test_a_timed_out_call_is_a_tool_error_and_the_server_keeps_working(log_dir: Path):
    with manager(log_dir, demo={"timeout": 1}) as m:
        pid = server_pid(m)
        started = time.monotonic()
        outcome = call(m, "slow", seconds=30)
        assert time.monotonic() - started < 10
        assert not outcome.ok and "timed out after 1 s" in outcome.text
        assert call(m, "echo", text="still here").text == "still here"
        assert server_pid(m) == pid  # the same process: it was not wedged


def test_a_wedged_server_is_restarted_after_a_timeout(log_dir: Path):
    with manager(log_dir, demo={"timeout": 1}) as m:
        pid = server_pid(m)
        outcome = call(m, "wedge", seconds=60)  # blocks the server's whole loop
        assert not outcome.ok and "timed out after 1 s" in outcome.text
        assert call(m, "echo", text="after").text == "after"  # waits for the probe, then a fresh server
        assert server_pid(m) != pid
        assert wait_gone(pid)
    assert "restarting the server" in (log_dir / "mcp-demo.log").read_text()


def test_a_server_killed_mid_call_gives_a_tool_error_and_the_next_call_restarts_it(log_dir: Path):
    with manager(log_dir, demo={}) as m:
        pid = server_pid(m)
        threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
        started = time.monotonic()
        outcome = call(m, "slow", seconds=30)
        assert time.monotonic() - started < 10
        assert not outcome.ok and "stopped answering" in outcome.text and "restarted on the next call" in outcome.text
        assert call(m, "echo", text="back").text == "back"
        new_pid = server_pid(m)
        assert new_pid != pid and pid_alive(new_pid)
    assert wait_gone(new_pid)


def test_an_interrupt_cancels_the_call_at_once(log_dir: Path):
    with manager(log_dir, demo={}) as m:
        pid = server_pid(m)
        stop = threading.Event()
        threading.Timer(0.3, stop.set).start()
        started = time.monotonic()
        with pytest.raises(InterruptedError):
            m.call("demo", "slow", {"seconds": 30}, is_interrupted=stop.is_set)
        assert time.monotonic() - started < 3
        assert server_pid(m) == pid


def test_close_leaves_no_server_process_and_is_idempotent(log_dir: Path):
    m = manager(log_dir, a={}, b={})
    m.start()
    pids = [server_pid(m, "a"), server_pid(m, "b")]
    assert all(pid_alive(pid) for pid in pids)
    m.close()
    assert all(wait_gone(pid) for pid in pids)
    m.close()
    assert "shut down" in call(m, "echo", "a", text="x").text
    assert not [t for t in threading.enumerate() if t.name == "herald-mcp"]


def test_servers_left_open_are_stopped_when_python_exits(tmp_path: Path):
    script = (
        "import sys\n"
        "from herald.mcp import parse_mcp_servers\n"
        "from herald.mcp.manager import MCPManager\n"
        f"m = MCPManager(parse_mcp_servers({demo()!r}), log_dir=__import__('pathlib').Path({str(tmp_path)!r}))\n"
        "m.start()\n"
        "print(m.call('demo', 'pid', {}).text, flush=True)\n"  # and exit without close()
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.strip())
    assert wait_gone(pid)


def test_async_callers_share_the_same_servers(log_dir: Path):
    import asyncio

    async def main() -> list[str]:
        m = manager(log_dir, demo={})
        try:
            await m.astart()
            outcomes = await asyncio.gather(*(m.acall("demo", "echo", {"text": str(i)}) for i in range(5)))
            return [o.text for o in outcomes]
        finally:
            await m.aclose()

    assert asyncio.run(main()) == ["0", "1", "2", "3", "4"]
