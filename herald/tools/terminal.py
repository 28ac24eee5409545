"""`terminal`: run a shell command in the working directory."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import IO, Any, Mapping

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line
from herald.tools.capping import HeadTailBuffer

DEFAULT_TIMEOUT = 120
MAX_TIMEOUT = 600
POLL_SECONDS = 0.05


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and everything it started (it leads its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _pump(stream: IO[bytes], sink: HeadTailBuffer) -> None:
    # The reader owns the pipe and closes it: a background child may hold it open long
    # after the command returned, and closing it under a blocked read is not safe.
    try:
        for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
            sink.write(chunk)
    finally:
        stream.close()


class TerminalTool:
    """Runs `bash -c <command>` with a timeout; output capped, exit code reported."""

    name = "terminal"
    toolset = "terminal"
    read_only = False
    schema = function_schema(
        "terminal",
        "Run a shell command (bash) in the working directory and return its combined stdout and "
        "stderr plus the exit code. Non-interactive: stdin is empty, so never run commands that "
        "wait for input (use flags like -y). Dangerous commands need the user's approval.",
        {
            "command": {"type": "string", "description": "The shell command line to run."},
            "timeout": {
                "type": "integer",
                "description": f"Seconds before the command is killed (default {DEFAULT_TIMEOUT}, max {MAX_TIMEOUT}).",
            },
        },
        ["command"],
    )

    def preview(self, args: Mapping[str, Any]) -> str:
        """The command, on one line."""
        return one_line(args.get("command", ""))

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Ask approval if needed, run the command, and report what it printed and how it ended."""
        command: str = args["command"]
        if not command.strip():
            return ToolResult("Error: 'command' is empty.", ok=False)
        timeout = args.get("timeout", DEFAULT_TIMEOUT)
        if timeout <= 0:
            return ToolResult(f"Error: 'timeout' must be a positive number of seconds (max {MAX_TIMEOUT}).", ok=False)
        notes = []
        if timeout > MAX_TIMEOUT:
            notes.append(f"[timeout {timeout}s lowered to the maximum {MAX_TIMEOUT}s]")
            timeout = MAX_TIMEOUT

        verdict = ctx.approval.check_command(command, is_interrupted=ctx.is_interrupted)
        if not verdict.allowed:
            return ToolResult(verdict.message, ok=False)

        output = HeadTailBuffer(keep=max(ctx.output_cap // 2, 1))
        env = dict(os.environ, PAGER="cat", GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0")
        proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=ctx.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # own process group, so a kill reaches its children too
        )
        assert proc.stdout is not None
        reader = threading.Thread(target=_pump, args=(proc.stdout, output), daemon=True)
        reader.start()

        ending = None
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if ctx.is_interrupted():
                ending = "[interrupted by the user; command killed]"
                break
            if time.monotonic() >= deadline:
                ending = f"[timed out after {timeout}s; command killed]"
                break
            time.sleep(POLL_SECONDS)
        if ending is not None:
            _kill_group(proc)
        proc.wait()
        reader.join(timeout=1)
        if reader.is_alive():  # `cmd &` children keep the pipe open; they are left running
            notes.append("[background processes are still running; their later output is not captured]")

        text = output.text().rstrip("\n")
        parts = [text] if text else ["(no output)"]
        parts.extend(notes)
        if ending is not None:
            parts.append(ending)
            return ToolResult("\n".join(parts), ok=False)
        parts.append(f"[exit code: {proc.returncode}]")
        return ToolResult("\n".join(parts), ok=proc.returncode == 0)
