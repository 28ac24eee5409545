"""With no provider configured, `herald -q` answers from the bundled local model: no account needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # skipped or failed without the extra: see conftest

ROOT = Path(__file__).resolve().parents[2]


def herald(tmp_path: Path, *args: str, config: str = "", stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("HERALD_")}
    env.update(HERALD_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "herald", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, input=stdin,
    )


def test_the_demo_question_gets_paris(tmp_path: Path) -> None:
    done = herald(tmp_path, "-q", "What is the capital of France?")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Paris.\n"  # one line, ended by the frame's stop, with its newline
    lines = done.stderr.splitlines()
    assert lines[0].startswith("No provider configured: running gemma-3-270m on this machine's CPU.")
    assert "pretrained model (not instruction-tuned)" in lines[0]
    assert lines[1].startswith("starting the local model… ready in ") and lines[1].endswith("s")
    assert len(lines) == 2, done.stderr  # no cut marker: the answer ended by itself
    assert "\x1b" not in done.stdout


def test_a_cut_answer_is_marked(tmp_path: Path) -> None:
    done = herald(tmp_path, "--max-tokens", "2", "-q", "Tell me a story.")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n") and done.stdout.strip()
    assert done.stderr.splitlines()[-1] == "(cut at 2 tokens: --max-tokens to raise)"


def test_a_huge_question_is_refused_and_the_session_goes_on(tmp_path: Path) -> None:
    done = herald(tmp_path, config="", stdin="lorem ipsum dolor sit amet " * 8000)
    assert done.returncode == 2
    error = done.stderr.splitlines()[-1]
    assert error.startswith("herald: error: the message is too long for the model's context")
    assert error.endswith("— shorten the input") and "/new" not in error  # -q has no /new
    done = herald(tmp_path, "-c", "-q", "What is the capital of Japan?")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Tokyo.\n"
