"""Small things a newcomer met: hints that name chat commands only in a chat, a config that
tells the truth about the local model file."""

from __future__ import annotations

from pathlib import Path

import pytest

import herald.local
from fakeprovider import FakeProvider, Reply
from herald.cli.commands import show_config
from herald.cli.config import load_settings
from herald.local import default_model_path

from .proc import finish, herald_env, run_pipe, spawn

PROMPT = "›"


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY="sk-test-key-0123456789abcdef", HERALD_MODEL="fake-model")


def test_a_too_long_message_in_a_chat_suggests_new(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.default = Reply(text="Four.")
    child = spawn("--max-context-tokens", "256", env=env)
    child.expect(PROMPT)
    child.send("word " * 400 + "\r")
    child.expect("/new to start a new conversation")
    child.expect(PROMPT)
    child.sendcontrol("d")
    finish(child)
    assert fake.requests == []  # refused before sending


def test_a_too_long_question_with_q_does_not_suggest_new(fake: FakeProvider, env: dict[str, str]) -> None:
    done = run_pipe("--max-context-tokens", "256", "-q", "word " * 400, env=env)
    err = done.stderr.decode()
    assert done.returncode == 2 and err.startswith("herald: error: the message is too long")
    assert err.rstrip().endswith("— shorten the input") and "/new" not in err


def _local_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: True)
    lines: list[str] = []
    show_config(load_settings({}, environ={}, path=tmp_path / "none.toml"), lines.append)
    return {line.split()[0]: line for line in lines[1:]}


def test_config_says_assembled_on_first_use_only_before_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = default_model_path()
    assert not path.exists()  # a fresh data directory ($HERALD_HOME per test)
    assert "(assembled on first use)" in _local_config(monkeypatch, tmp_path)["local_model"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF")
    row = _local_config(monkeypatch, tmp_path)["local_model"]
    assert str(path) in row and "first use" not in row
