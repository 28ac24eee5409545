"""With no provider configured, `herald -q` answers from the bundled local model: no account needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from herald.local import local_extra_available

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not local_extra_available(), reason="the local default needs pip install 'herald[local]'"),
]

ROOT = Path(__file__).resolve().parents[2]


def test_one_shot_question_streams_from_the_local_model(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("max_tokens = 24\n")  # keep the CPU answer short
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("HERALD_")}
    env.update(HERALD_HOME=str(home), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "herald", "-q", "Say hello."],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "No provider configured: running gemma-3-270m" in done.stderr
    assert done.stdout.strip(), "the model's answer reaches stdout"
    assert "\x1b" not in done.stdout
