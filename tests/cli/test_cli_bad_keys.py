"""A key that cannot go in an HTTP header is a configuration error at once, never shown.

A newline, a control or a non-ASCII character (a paste gone wrong) used to reach the HTTP
library, which put the key into its error line, blamed the network, and retried for 9 s.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply

from .proc import herald_env, run_pipe

SECRET = "sk-secret-0123456789"
BAD_KEYS = {
    "newline": SECRET + "\ndef",
    "non-ascii": SECRET + "é",
    "control": SECRET + "\x07",
}


def _check(result: object, where: str, fake: FakeProvider) -> str:
    assert result.returncode == 2, result  # type: ignore[attr-defined]
    err = result.stderr.decode()  # type: ignore[attr-defined]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("herald: error: ") and where in lines[0], lines[0]
    assert "HTTP header" in lines[0] and "Traceback" not in err
    assert SECRET not in err and SECRET not in result.stdout.decode()  # type: ignore[attr-defined]
    assert fake.requests == []  # nothing was sent, nothing retried
    return lines[0]


@pytest.mark.parametrize("kind", sorted(BAD_KEYS))
def test_a_bad_key_from_the_flag(fake: FakeProvider, kind: str) -> None:
    fake.default = Reply(text="never")
    env = herald_env(HERALD_BASE_URL=fake.base_url)
    result = run_pipe("--api-key", BAD_KEYS[kind], "-q", "hi", env=env, timeout=30)
    _check(result, "flag --api-key", fake)


@pytest.mark.parametrize("kind", sorted(BAD_KEYS))
def test_a_bad_key_from_the_environment(fake: FakeProvider, kind: str) -> None:
    fake.default = Reply(text="never")
    env = herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=BAD_KEYS[kind])
    _check(run_pipe("-q", "hi", env=env, timeout=30), "env HERALD_API_KEY", fake)


def test_a_bad_key_from_the_providers_own_variable(fake: FakeProvider) -> None:
    env = herald_env(HERALD_BASE_URL="https://openrouter.ai/api/v1", OPENROUTER_API_KEY=BAD_KEYS["control"])
    _check(run_pipe("-q", "hi", env=env, timeout=30), "env OPENROUTER_API_KEY", fake)


def test_a_bad_key_from_the_config_file(fake: FakeProvider) -> None:
    config = Path(os.environ["HERALD_HOME"]) / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'base_url = "{fake.base_url}"\napi_key = {json.dumps(BAD_KEYS["newline"])}\n')
    line = _check(run_pipe("-q", "hi", env=herald_env(), timeout=30), str(config), fake)
    assert "line break" in line


def test_a_bad_key_in_a_key_pool_and_a_fallback(fake: FakeProvider) -> None:
    env = herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEYS=f"sk-good,{BAD_KEYS['non-ascii']}")
    line = _check(run_pipe("-q", "hi", env=env, timeout=30), "env HERALD_API_KEYS", fake)
    assert "key 2" in line
    config = Path(os.environ["HERALD_HOME"]) / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[[fallback]]\nmodel = "other"\napi_key = {json.dumps(BAD_KEYS["control"])}\n')
    env = herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY="sk-good")
    _check(run_pipe("-q", "hi", env=env, timeout=30), "fallback 1", fake)
