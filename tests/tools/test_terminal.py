"""The terminal tool with real subprocesses: output, exit codes, timeouts and interrupts."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from herald.tools import ToolRegistry


def test_runs_in_cwd_combining_stdout_and_stderr(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    result = registry.execute("terminal", {"command": "pwd; echo out; echo err >&2"}, ctx)
    assert result.ok
    assert result.content == f"{tmp_path}\nout\nerr\n[exit code: 0]"


def test_nonzero_exit_is_reported(registry: ToolRegistry, ctx: Any) -> None:
    result = registry.execute("terminal", {"command": "echo nope; exit 3"}, ctx)
    assert not result.ok
    assert result.content == "nope\n[exit code: 3]"


def test_no_output_and_no_stdin(registry: ToolRegistry, ctx: Any) -> None:
    result = registry.execute("terminal", {"command": "cat"}, ctx)  # would hang if stdin were a tty
    assert result.content == "(no output)\n[exit code: 0]"


def test_timeout_kills_the_process_group(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    started = time.monotonic()
    result = registry.execute("terminal", {"command": f"echo start; (sleep 2; touch {marker}) & sleep 30", "timeout": 1}, ctx)
    elapsed = time.monotonic() - started
    assert not result.ok
    assert result.content == "start\n[timed out after 1s; command killed]"
    assert elapsed < 5
    time.sleep(1.5)
    assert not marker.exists(), "the background child should have been killed with the group"


def test_interrupt_kills_a_long_command_quickly(registry: ToolRegistry, make_ctx: Any) -> None:
    stop = threading.Event()
    # The registry checks for an interrupt before starting; only trip it once running.
    threading.Timer(0.3, stop.set).start()
    ctx = make_ctx(is_interrupted=stop.is_set)
    started = time.monotonic()
    result = registry.execute("terminal", {"command": "sleep 60"}, ctx)
    assert time.monotonic() - started < 2
    assert not result.ok
    assert "[interrupted by the user; command killed]" in result.content


def test_timeout_is_clamped_and_validated(registry: ToolRegistry, ctx: Any) -> None:
    result = registry.execute("terminal", {"command": "echo ok", "timeout": 9999}, ctx)
    assert result.ok and "[timeout 9999s lowered to the maximum 600s]" in result.content
    bad = registry.execute("terminal", {"command": "echo ok", "timeout": 0}, ctx)
    assert not bad.ok and "must be a positive number" in bad.content
    assert not registry.execute("terminal", {"command": "  "}, ctx).ok


def test_huge_output_is_capped_with_head_and_tail(registry: ToolRegistry, make_ctx: Any) -> None:
    ctx = make_ctx(output_cap=2000)
    result = registry.execute("terminal", {"command": "echo FIRST; seq 1 200000; echo LAST"}, ctx)
    assert result.ok
    assert result.content.startswith("FIRST")
    assert result.content.endswith("LAST\n[exit code: 0]")
    assert "output truncated:" in result.content
    assert len(result.content) < 2200


def test_background_process_does_not_block(registry: ToolRegistry, ctx: Any) -> None:
    started = time.monotonic()
    result = registry.execute("terminal", {"command": "sleep 3 & echo started"}, ctx)
    assert time.monotonic() - started < 2.5
    assert result.ok
    assert result.content.startswith("started")
    assert "background processes are still running" in result.content


def test_environment_is_inherited(registry: ToolRegistry, ctx: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("HERALD_TEST_VALUE", "42")
    assert registry.execute("terminal", {"command": "echo $HERALD_TEST_VALUE"}, ctx).content.startswith("42")
    assert os.environ["HERALD_TEST_VALUE"] == "42"
