"""Token counts with the bundled local model, streamed answers included: the footer, /usage,
`--json` usage and batch usage are all non-empty (llama-cpp-python's server reports usage on
plain requests only; Herald's chat handlers end each stream with a usage chunk)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.e2e  # skipped or failed without the extra: see conftest

ROOT = Path(__file__).resolve().parents[2]
FOOTER = re.compile(r"(\d+) in · (\d+) out · first token")


def env_for(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("HERALD_")}
    env.update(HERALD_HOME=str(home), PYTHONPATH=str(ROOT), TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    return env


def test_json_usage_of_a_streamed_answer(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "herald", "--local", "--json", "-q", "What is the capital of France?"],
                          capture_output=True, text=True, env=env_for(tmp_path), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert any(e["type"] == "text.delta" for e in events)  # it streamed
    usage = events[-1]["usage"]
    assert usage["input_tokens"] > 20 and usage["output_tokens"] >= 1, usage


def test_the_footer_and_usage_in_a_chat(tmp_path: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "herald", "--local"], env=env_for(tmp_path), cwd=str(tmp_path),
                          dimensions=(40, 100), encoding="utf-8", timeout=300)
    child.expect("›")
    child.send("What is the capital of France?\r")
    child.expect(FOOTER)
    assert int(child.match.group(1)) > 20 and int(child.match.group(2)) >= 1
    child.expect("›")
    child.send("/usage\r")
    child.expect(r"session: (.*?) in")
    assert "no usage" not in child.before
    child.expect("›")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()


def test_batch_rows_carry_usage(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "q1", "prompt": "What is the capital of France?"}) + "\n")
    out = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "herald", "batch", str(source), "-o", str(out), "--json"],
                          capture_output=True, text=True, env=env_for(tmp_path), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["usage"]["prompt_tokens"] > 20 and row["usage"]["completion_tokens"] >= 1, row["usage"]
    assert json.loads(done.stdout)["usage"]["total_tokens"] == row["usage"]["total_tokens"]
