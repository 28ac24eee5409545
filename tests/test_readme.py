"""Every code block of README.md runs as printed, against the loopback fake provider.

Python blocks are executed as they are, with the environment pointing at the fake provider
(HERALD_BASE_URL, HERALD_API_KEY) and a fresh HERALD_HOME. TOML blocks are loaded as the
config file and `herald config` must accept them. The CLI block's lines that run without a
terminal run through bash, with `herald` on PATH. Every other block is listed in
NOT_RUN_HERE with the reason; a new block that is in neither fails this test.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", README, flags=re.M | re.S)
KEY = "sk-readme-test-0123456789abcdef"

# Blocks not executed here, by their first line, and why.
NOT_RUN_HERE = {
    "# 1. Set up and ask a question. No account needed: with no provider configured, Herald runs a":
        "the quick start: CI runs it (command 2 is .ci/run; tests/ci/test_llama_wheel.py checks both match it)",
    ".venv/bin/python -m pytest -c pyproject.toml -rs -n 2 --dist loadfile tests":
        "the test command itself (.ci/run runs it)",
    "1,234 in (1,000 cached) · 56 out (20 reasoning) · first token 0.42s · 48.3 tok/s":
        "a picture of the footer, not a command (tests/cli/test_cli_visible.py checks the footer)",
}
# Lines of the CLI block that need a terminal or a placeholder filled in.
CLI_LINES_NOT_RUN = (
    "herald  ", "herald -c", "herald --resume", "herald sessions [", "herald mcp [", "herald batch IN",
    "herald local serve",  # serves until stopped: tests/e2e/test_e2e_local_provider.py runs it
)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == language]


def first_line(body: str) -> str:
    return body.splitlines()[0]


def test_every_block_is_run_or_said_why_not() -> None:
    for language, body in BLOCKS:
        if language in ("python", "toml"):
            continue
        if first_line(body).startswith("herald "):
            continue  # the CLI block, below
        assert first_line(body) in NOT_RUN_HERE, f"a README block nothing runs: {first_line(body)!r}"
    assert len(blocks("python")) >= 2 and len(blocks("toml")) >= 3


@pytest.fixture
def env(fake: FakeProvider, tmp_path: Path) -> dict[str, str]:
    fake.default = Reply(text="Paris.")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "herald"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m herald "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return dict(
        os.environ, HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, PYTHONPATH=str(ROOT),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )


@pytest.mark.parametrize("number", range(len(blocks("python"))))
def test_python_blocks_run_as_printed(number: int, env: dict[str, str], tmp_path: Path, fake: FakeProvider) -> None:
    code = blocks("python")[number]
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Paris." in done.stdout, done.stdout
    assert "failed" not in done.stdout and "None" not in done.stdout, done.stdout
    assert fake.requests and KEY not in done.stdout + done.stderr


def test_python_blocks_show_a_failure(tmp_path: Path) -> None:
    """Without a provider the examples say what failed, rather than printing None."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_API", "HERALD_BASE", "OPENROUTER", "OPENAI", "ANTHROPIC"))}
    env.update(PYTHONPATH=str(ROOT), HERALD_BASE_URL="http://127.0.0.1:9/v1")  # nothing listens on port 9
    for code in blocks("python"):
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "failed: " in done.stdout and "127.0.0.1:9" in done.stdout and "None" not in done.stdout, done.stdout


@pytest.mark.parametrize("number", range(len(blocks("toml"))))
def test_toml_blocks_are_valid_config(number: int, tmp_path: Path) -> None:
    config = Path(os.environ["HERALD_HOME"]) / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(blocks("toml")[number])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "herald", "config"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "error" not in done.stderr, done.stderr
    assert f"config file: {config} (found)" in done.stdout


def test_the_cli_lines_run_as_printed(env: dict[str, str], tmp_path: Path, fake: FakeProvider) -> None:
    (cli_block,) = [body for lang, body in BLOCKS if lang == "" and first_line(body).startswith("herald ")]
    ran = 0
    for line in cli_block.splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command or (line + " ").startswith(CLI_LINES_NOT_RUN):
            continue
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)
        ran += 1
    assert ran >= 5
    assert (tmp_path / "answer.txt").read_text() == "Paris.\n"
