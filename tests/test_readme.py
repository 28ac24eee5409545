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
    "export ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_AUTH_TOKEN=gw-team-key   # sent as Bearer":
        "needs Claude Code; tests/serve/test_conduct.py checks the Bearer and x-api-key auth it sends, "
        "tests/serve/test_sdks.py the Messages wire it speaks",
    "1,234 in (1,000 cached) · 56 out (20 reasoning) · first token 0.42s · 48.3 tok/s":
        "a picture of the footer, not a command (tests/cli/test_cli_visible.py checks the footer)",
}
# Lines of the CLI block that need a terminal or a placeholder filled in.
CLI_LINES_NOT_RUN = (
    "herald  ", "herald -c", "herald --resume", "herald sessions [", "herald mcp [", "herald batch IN",
    "herald local serve",  # serves until stopped: tests/e2e/test_e2e_local_provider.py runs it
)
# The gateway's blocks (its TOML file, the SDKs pointed at it) run against `herald serve` below,
# not as Herald's config.toml or against the provider directly.
GATEWAY_FIRST_LINES = ("# gateway.toml", "# The OpenAI SDK through the gateway", "# The Anthropic SDK through the gateway")
GATEWAY_ADDRESS = "http://127.0.0.1:8080"


def blocks(language: str, *, gateway: bool = False) -> list[str]:
    """The blocks in `language`: the gateway's ones when `gateway`, else the others."""
    return [body for lang, body in BLOCKS if lang == language and body.startswith(GATEWAY_FIRST_LINES) == gateway]


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


def test_the_gateway_blocks_run_as_printed(fake: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway's TOML is a valid `herald serve` file as printed (keys from the providers' own
    variables); served with its providers' addresses pointed at the fake provider, the SDK blocks,
    pointed at that gateway, print the answer."""
    import importlib.util

    if importlib.util.find_spec("prometheus_client") is None:  # as tests/serve/conftest.py: CI must not skip
        if os.environ.get("CI") or os.environ.get("HERALD_REQUIRE_SERVE"):
            pytest.fail("the gateway blocks need the serve extra: pip install -e '.[serve]'")
        pytest.skip("the gateway blocks need pip install -e '.[serve]'")
    from herald.serve.config import load_config

    fake.default = Reply(text="Paris.")
    (toml,) = blocks("toml", gateway=True)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    (tmp_path / "gateway.toml").write_text(toml)
    assert [m.name for m in load_config(tmp_path / "gateway.toml").models] == ["fast", "local"]
    served = toml.replace("https://api.openai.com/v1", fake.base_url).replace("https://api.anthropic.com", fake.anthropic_base_url)
    served = served.replace("http://127.0.0.1:8000/v1", fake.base_url)
    assert "api.openai.com" not in served and "api.anthropic.com" not in served
    (tmp_path / "served.toml").write_text(served)
    assert [m.name for m in load_config(tmp_path / "served.toml").models] == ["fast", "local"]
    gateway = subprocess.Popen([sys.executable, "-m", "herald", "serve", "--config", str(tmp_path / "served.toml"), "--port", "0"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert gateway.stderr is not None
        line = gateway.stderr.readline()
        found = re.search(r"listening on (http://\S+)", line)
        assert found, line
        python = blocks("python", gateway=True)
        assert len(python) == 2 and all(GATEWAY_ADDRESS in code for code in python)
        for code in python:
            done = subprocess.run([sys.executable, "-c", code.replace(GATEWAY_ADDRESS, found.group(1))], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert done.stdout == "Paris.\n", done.stdout
    finally:
        gateway.terminate()
        gateway.wait(60)
        if gateway.stderr is not None:
            gateway.stderr.close()
    assert fake.requests and all(r.path.endswith(("/chat/completions", "/messages")) for r in fake.requests)
