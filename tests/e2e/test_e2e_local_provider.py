"""The bundled model as a named provider ("local") and served on a chosen port, for real."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from herald import AIAgent

pytestmark = pytest.mark.e2e  # skipped or failed without the extra: see conftest

ROOT = Path(__file__).resolve().parents[2]
DEAD = "http://127.0.0.1:9/v1"  # nothing listens on port 9: the primary is down


def env_for(tmp_path: Path, config: str = "") -> dict[str, str]:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("HERALD_")}
    env.update(HERALD_HOME=str(home), PYTHONPATH=str(ROOT))
    return env


def test_the_library_fails_over_to_the_local_model(tmp_path: Path) -> None:
    with AIAgent("m", base_url=DEAD, max_retries=0, fallback=[{"model": "local"}], enabled_toolsets=[],
                 persist_session=False, skip_context_files=True, skip_memory=True, cwd=tmp_path) as agent:
        result = agent.run_conversation("What is the capital of France?")
    assert result["completed"], result["error"]
    assert result["answered_by"]["model"] == "gemma-3-270m" and result["answered_by"]["skipped"][0]["model"] == "m"


def test_a_fallback_table_can_name_it(tmp_path: Path) -> None:
    config = f'model = "m"\nbase_url = "{DEAD}"\napi_key = "sk-dead-000"\n\n[[fallback]]\nmodel = "local"\n'
    done = subprocess.run([sys.executable, "-m", "herald", "-q", "What is the capital of France?"], capture_output=True,
                          text=True, env=env_for(tmp_path, config), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "answered by gemma-3-270m" in done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_herald_local_serve_on_a_chosen_port(tmp_path: Path) -> None:
    port = free_port()
    env = env_for(tmp_path)
    server = subprocess.Popen([sys.executable, "-m", "herald", "local", "serve", "--port", str(port)],
                              stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 240
        line = ""
        while "serving" not in line and time.monotonic() < deadline:
            line = server.stderr.readline() if server.stderr else ""
            assert line or server.poll() is None, "the server exited"
        assert f"serving gemma-3-270m at http://127.0.0.1:{port}/v1" in line
        done = subprocess.run([sys.executable, "-m", "herald", "--base-url", f"http://127.0.0.1:{port}/v1",
                               "--model", "gemma-3-270m", "--toolsets", "", "-q", "What is the capital of France?"],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0 and done.stdout.strip(), done.stderr
    finally:
        server.terminate()
        code = server.wait(30)
        if server.stderr:
            server.stderr.close()
    assert code == 0  # SIGTERM stops it cleanly
