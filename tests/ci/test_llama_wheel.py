"""`.ci/llama_wheel.py`: one portable wheel per machine, built once, with progress while it builds.

A stand-in for pip (a script that sleeps and prints build steps) plays the build here: the
real one compiles llama.cpp for minutes.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import textwrap
import threading
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llama_wheel", ROOT / ".ci" / "llama_wheel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


llama_wheel = load_script()

FAKE_PIP = textwrap.dedent(
    """
    import os, sys, time
    args = sys.argv[1:]
    out = args[args.index("--wheel-dir") + 1]
    for step in range(1, 5):
        print(f"[{step}/4] Building C object ggml/src/part{step}.c.o", flush=True)
        time.sleep(0.25)
    open(f"{out}/llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl", "w").write("wheel")
    with open(os.environ["FAKE_PIP_CALLS"], "a") as calls:
        calls.write("built\\n")
    """
)


@pytest.fixture
def fake_python(tmp_path: Path) -> str:
    """A "python" whose `-m pip wheel …` is the stand-in build."""
    script = tmp_path / "fake_pip.py"
    script.write_text(FAKE_PIP)
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nshift 2\nexec {sys.executable} {script} \"$@\"\n")  # drop "-m pip"
    python.chmod(0o755)
    return str(python)


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "wheels"
    monkeypatch.setenv("HERALD_WHEELS", str(directory))
    monkeypatch.setenv("FAKE_PIP_CALLS", str(tmp_path / "calls"))
    return directory


def test_the_build_is_portable_and_never_uses_pips_cache() -> None:
    command = llama_wheel.build_command("python", Path("/out"))
    assert "--no-cache-dir" in command and command[command.index("--no-binary") + 1] == "llama-cpp-python"
    assert "-DGGML_NATIVE=OFF" in llama_wheel.build_env()["CMAKE_ARGS"]


def test_progress_lines_come_while_it_builds_with_the_builds_own_percentage(wheels: Path, fake_python: str) -> None:
    said: list[str] = []
    log = io.StringIO()
    command = llama_wheel.build_command(fake_python, wheels.parent)
    code = llama_wheel.run_with_progress(command, env=llama_wheel.build_env(), log=log, say=said.append, every=0.2)
    assert code == 0
    assert len(said) >= 3, said  # about a second of building, a line every 0.2 s
    assert all(line.startswith("  still building llama.cpp: 0m0") for line in said)
    assert any(line.endswith("%") for line in said) and said[-1].endswith(("75%", "100%"))
    assert "[4/4] Building C object" in log.getvalue()  # the whole output is kept in the log


def test_it_is_built_once_and_then_reused(wheels: Path, fake_python: str) -> None:
    said: list[str] = []
    first = llama_wheel.ensure_wheel(fake_python, say=said.append)
    assert first.parent == wheels and first.name.startswith("llama_cpp_python-0.3.36-")
    assert said[0].startswith("building llama-cpp-python 0.3.36 portably, once per machine")
    again = llama_wheel.ensure_wheel(fake_python, say=said.append)
    assert again == first
    assert (wheels.parent / "calls").read_text() == "built\n"
    assert sorted(p.name for p in wheels.iterdir() if not p.name.startswith(".")) == ["build.log", first.name]


def test_two_builds_at_once_compile_once(wheels: Path, fake_python: str) -> None:
    results: list[Path] = []
    said: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(llama_wheel.ensure_wheel(fake_python, say=said.append))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and results[0] == results[1]
    assert (wheels.parent / "calls").read_text() == "built\n"


def test_a_failed_build_says_why_and_leaves_no_wheel(wheels: Path, tmp_path: Path) -> None:
    python = tmp_path / "failing-python"
    python.write_text("#!/bin/sh\necho 'CMake Error: no compiler found'\nexit 1\n")
    python.chmod(0o755)
    said: list[str] = []
    with pytest.raises(SystemExit):
        llama_wheel.ensure_wheel(str(python), say=said.append)
    assert "CMake Error: no compiler found" in said[-1]
    assert llama_wheel.find_wheel(wheels) is None


def test_readme_and_ci_share_the_setup_and_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    run = (ROOT / ".ci" / "run").read_text()
    assert 'bash .ci/setup local && .venv/bin/herald -q "What is the capital of France?"' in readme
    assert 'bash .ci/setup "$EXTRAS"' in run
    test_command = ".venv/bin/python -m pytest -c pyproject.toml -rs -n 2 --dist loadfile tests"
    assert test_command in readme and test_command in run
