"""The first run with nothing configured: the error says how to get a key and the zero-account model."""

from __future__ import annotations

import json

import pytest

import herald.local
from herald.cli.app import cli


@pytest.fixture
def no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: False)


@pytest.mark.parametrize("args", [["-q", "hello"], ["--json", "-q", "hello"]])
def test_one_shot_without_key_or_extra_says_both_ways(no_extra, capsys, args) -> None:
    assert cli(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert "HERALD_API_KEY" in line and "pip install 'herald[local]'" in line and "no account" in line
    assert "Traceback" not in captured.err
    if "--json" in args:
        (event,) = [json.loads(raw) for raw in captured.out.splitlines()]
        assert event["type"] == "error" and event["v"] == 1 and event["error_type"] == "ConfigError"
        assert "herald[local]" in event["message"]
    else:
        assert captured.out == ""


def test_with_the_extra_installed_a_keyless_provider_suggests_local(monkeypatch, capsys) -> None:
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: True)
    assert cli(["-q", "hello", "--base-url", "https://llm.example.com/v1"]) == 2
    line = capsys.readouterr().err.strip()
    assert "no API key for llm.example.com" in line and "--local" in line
