"""Build llama-cpp-python portably, once per machine, into one shared wheel directory.

    .venv/bin/python .ci/llama_wheel.py          # build it unless it is there; print its directory
    .venv/bin/python .ci/llama_wheel.py --dir    # only print the directory

Both the README's quick start and CI (`.ci/setup`) use this, so the wheel is built once
per machine, with the same flags: the native build crashes on some Xeon CPUs (AMX), so
llama.cpp is compiled for a portable AVX2 baseline. pip's own wheel cache is not used: it
ignores CMAKE_ARGS and could hand back a native build made elsewhere.

The build takes minutes and pip says nothing meanwhile, so a progress line is printed at
least every 30 seconds, with the build's own percentage when it has one. Two builds at once
(two terminals) do not both compile: the second waits for the first and uses its wheel.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Callable, Sequence

VERSION = "0.3.36"
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
PROGRESS_EVERY = 30.0
"""Seconds between progress lines at most."""
_PERCENT = re.compile(r"\[\s*(\d{1,3})%\]")  # make: "[ 45%] Building C object …"
_STEPS = re.compile(r"^\[(\d+)/(\d+)\] ")  # ninja: "[120/260] Building CXX object …"


def wheel_dir() -> Path:
    """`$HERALD_WHEELS`, else `~/.cache/herald-wheels`."""
    return Path(os.environ.get("HERALD_WHEELS") or Path.home() / ".cache" / "herald-wheels").expanduser()


def find_wheel(directory: Path) -> Path | None:
    found = sorted(directory.glob(f"llama_cpp_python-{VERSION}-*.whl"))
    return found[-1] if found else None


def build_command(python: str, out: Path) -> list[str]:
    return [
        python, "-m", "pip", "wheel", "--verbose", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
        "--no-binary", "llama-cpp-python", "--wheel-dir", str(out), f"llama-cpp-python=={VERSION}",
    ]  # fmt: skip


def build_env() -> dict[str, str]:
    return {**os.environ, "CMAKE_ARGS": PORTABLE_CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 1)}


def run_with_progress(
    command: Sequence[str],
    *,
    env: dict[str, str],
    log: IO[str],
    say: Callable[[str], None],
    every: float = PROGRESS_EVERY,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run `command` with its output going to `log`; say how it goes at least every `every` seconds.

    Returns:
        The command's exit code.
    """
    started = clock()
    last_step = ""
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as process:
        output = process.stdout
        assert output is not None

        def read() -> None:
            nonlocal last_step
            for line in output:
                log.write(line)
                step = _progress(line)
                if step:
                    last_step = step

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        while True:
            try:
                code = process.wait(every)
                break
            except subprocess.TimeoutExpired:
                minutes, seconds = divmod(int(clock() - started), 60)
                say(f"  still building llama.cpp: {minutes}m{seconds:02d}s" + (f", compiled {last_step}" if last_step else ""))
        reader.join()
    return code


def _progress(line: str) -> str:
    """The build's own progress in a line of its output ("45%"), or ""."""
    steps = _STEPS.match(line.strip())
    if steps:
        done, total = int(steps.group(1)), int(steps.group(2))
        return f"{100 * done // max(total, 1)}%"
    percent = _PERCENT.search(line)
    return f"{percent.group(1)}%" if percent else ""


def ensure_wheel(python: str = sys.executable, *, say: Callable[[str], None] = print) -> Path:
    """The portable wheel, built into `wheel_dir()` if it is not there yet.

    Raises:
        SystemExit: the build failed (the log's tail is shown).
    """
    directory = wheel_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".build.lock").open("w") as lock:
        if find_wheel(directory) is None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say("another llama.cpp build is running on this machine: waiting for it")
                fcntl.flock(lock, fcntl.LOCK_EX)
        wheel = find_wheel(directory)
        if wheel is not None:
            return wheel
        return _build(python, directory, say)


def _build(python: str, directory: Path, say: Callable[[str], None]) -> Path:
    log_path = directory / "build.log"
    say(
        f"building llama-cpp-python {VERSION} portably, once per machine, into {directory} "
        f"(about 4 minutes on 2 cores; log: {log_path})"
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=directory, prefix=".building-") as temp, log_path.open("w") as log:
        code = run_with_progress(build_command(python, Path(temp)), env=build_env(), log=log, say=say)
        built = find_wheel(Path(temp))
        if code != 0 or built is None:
            log.flush()
            tail = log_path.read_text(errors="replace").splitlines()[-25:]
            say("\n".join(["llama.cpp build failed; the end of its log:", *tail]))
            raise SystemExit(code or 1)
        target = directory / built.name
        os.replace(built, target)  # appears whole or not at all
    say(f"built {target.name} in {(time.monotonic() - started) / 60:.1f} minutes")
    return target


def main(argv: Sequence[str]) -> int:
    if "--dir" in argv:
        print(wheel_dir())
        return 0
    wheel = ensure_wheel(say=lambda line: print(line, flush=True))
    print(f"llama.cpp wheel: {wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
