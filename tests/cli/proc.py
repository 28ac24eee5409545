"""Run the real `herald` program (`python -m herald`) in a pipe or a pseudo-terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]")

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-9;?]*)(?P<cmd>[A-Za-z])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]"
    r"|(?P<ch>[\r\n\x08])"
    r"|(?P<text>[^\x1b\r\n\x08]+)"
)


def herald_env(**extra: str) -> dict[str, str]:
    """The test process's (hermetic) environment plus what the child needs."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        TERM="xterm-256color",
        PROMPT_TOOLKIT_NO_CPR="1",  # nobody answers cursor-position requests in a test pty
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_pipe(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run herald with stdout and stderr pipes (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "herald", *args],
        input=stdin.encode() if stdin is not None else None,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env or herald_env(),
        timeout=timeout,
        cwd=ROOT,
    )


def spawn(*args: str, env: dict[str, str] | None = None, timeout: float = 20, **kwargs: Any) -> pexpect.spawn:
    """Run herald in a 40x100 pseudo-terminal."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "herald", *args],
        env=env or herald_env(),
        dimensions=(40, 100),
        encoding="utf-8",
        timeout=timeout,
        cwd=str(ROOT),
        **kwargs,
    )


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def screen(output: str) -> list[str]:
    """Replay terminal output (repaints included) into the lines a person finally sees.

    Understands what rich and prompt_toolkit emit that moves text: CR, LF, backspace,
    cursor up/down/forward/back/column, erase line and erase below. Everything else is ignored.
    """
    lines: list[list[str]] = [[]]
    row = col = 0
    for m in _TOKEN.finditer(output):
        if m.group("text") is not None:
            line = lines[row]
            for ch in m.group("text"):
                if col < len(line):
                    line[col] = ch
                else:
                    line.extend(" " * (col - len(line)))
                    line.append(ch)
                col += 1
        elif m.group("ch") == "\r":
            col = 0
        elif m.group("ch") == "\n":
            row, col = row + 1, 0
            while row >= len(lines):
                lines.append([])
        elif m.group("ch") == "\x08":
            col = max(0, col - 1)
        elif m.group("cmd"):
            cmd, params = m.group("cmd"), m.group("params") or ""
            n = int(params) if params.isdigit() else 1
            if cmd == "A":
                row = max(0, row - n)
            elif cmd == "B":
                row += n
                while row >= len(lines):
                    lines.append([])
            elif cmd == "C":
                col += n
            elif cmd == "D":
                col = max(0, col - n)
            elif cmd == "G":
                col = n - 1
            elif cmd == "K":
                if params == "2":
                    lines[row] = []
                else:
                    del lines[row][col:]
            elif cmd == "J":
                del lines[row][col:]
                del lines[row + 1 :]
    result = ["".join(line).rstrip() for line in lines]
    while result and not result[-1]:
        result.pop()
    return result
