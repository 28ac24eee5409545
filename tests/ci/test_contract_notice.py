"""A run of the suite on a plain clone (no ../shared/spec/) says in one line that the contract was not run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTICE = "reference contract not run: ../shared/spec/test_streaming_seed.py is absent (a plain clone has none)"


def run_suite(clone: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("HERALD_REQUIRE_CONTRACT", "CI", "PYTEST_XDIST_WORKER")}
    env["PYTHONPATH"] = str(ROOT)  # fakeprovider, which the conftest imports
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "tests"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_plain_clone_says_the_contract_was_not_run(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    (clone / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "conftest.py", clone / "tests" / "conftest.py")
    (clone / "tests" / "test_one.py").write_text("def test_one() -> None:\n    assert True\n")
    out = run_suite(clone)
    assert out.count(NOTICE) == 1, out
    assert "1 passed" in out


def test_with_the_contract_beside_the_clone_nothing_is_said(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    (clone / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "conftest.py", clone / "tests" / "conftest.py")
    (clone / "tests" / "test_one.py").write_text("def test_one() -> None:\n    assert True\n")
    spec = tmp_path / "shared" / "spec"
    spec.mkdir(parents=True)
    (spec / "test_streaming_seed.py").write_text("def test_seed() -> None:\n    assert True\n")
    out = run_suite(clone)
    assert NOTICE not in out and "2 passed" in out  # the contract ran with the suite
