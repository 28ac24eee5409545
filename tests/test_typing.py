"""The package type-checks: a typing error fails the suite like any other bug."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists(),
                    reason="mypy is in the test extra")
def test_mypy_is_clean():
    done = subprocess.run([sys.executable, "-m", "mypy", "herald", "--no-incremental"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
