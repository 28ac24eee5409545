"""Run the real `herald` program (`python -m herald`) in a pipe or a pseudo-terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect

from .term import screen_lines

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]")

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


ROWS, COLUMNS = 40, 100  # the pseudo-terminal's size


def spawn(*args: str, env: dict[str, str] | None = None, timeout: float = 20, **kwargs: Any) -> pexpect.spawn:
    """Run herald in a 40x100 pseudo-terminal."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "herald", *args],
        env=env or herald_env(),
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        timeout=timeout,
        cwd=str(ROOT),
        **kwargs,
    )


def finish(child: pexpect.spawn) -> str:
    """Wait for the program to exit; everything it printed since the last match."""
    child.expect(pexpect.EOF)
    child.close()
    return child.before or ""


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def screen(output: str) -> list[str]:
    """Replay a whole program's terminal output into the lines a person finally sees,
    on a screen of the pseudo-terminal's size (lines wrap, rows scroll out of reach)."""
    return screen_lines(output, strict=False, width=COLUMNS, height=ROWS)
