"""Continuation in the CLI: the setting (file, flag, `[[fallback]]`, `herald config`), `--json`'s
`stream.continued`, and the displays keeping what is on screen."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from fakeprovider import FakeProvider, cut_then_continue
from herald.cli.app import cli
from herald.cli.config import load_settings
from herald.cli.display import PlainDisplay
from herald.cli.json_events import JsonEventDisplay
from herald.errors import ConfigError
from herald.paths import config_dir

from .conftest import FakeClock
from .test_display import ANSWER, feed, rendered, rich_display, screen

KEY = "sk-continuation-cli-0123456789abcdef"
TEXT = "First paragraph of the answer.\n\nSecond paragraph, which is longer than the first one.\n\nThe end."


def _write_config(text: str) -> Path:
    path = config_dir() / "config.toml"
    path.write_text(text)
    return path


# ── the setting ─────────────────────────────────────────────────────────


def test_the_setting_from_the_file_the_flag_and_a_fallback_table() -> None:
    path = _write_config('continuation = "off"\n\n[[fallback]]\nmodel = "m2"\ncontinuation = "prefill"\n')
    settings = load_settings({}, environ={}, path=path)
    assert settings.continuation == "off" and settings.source("continuation") == "config file"
    assert settings.fallbacks()[0].continuation == "prefill"
    flagged = load_settings({"continuation": "prefill"}, environ={}, path=path)
    assert flagged.continuation == "prefill" and flagged.source("continuation") == "flag --continuation"
    assert load_settings({}, environ={}, path=Path("/nonexistent/c.toml")).continuation == "auto"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('continuation = "sometimes"\n', "continuation must be one of off, auto, prefill, not 'sometimes'"),
        ('[[fallback]]\nmodel = "m"\ncontinuation = "yes"\n', "fallback 1: continuation must be one of off, auto, prefill"),
    ],
)
def test_a_bad_setting_is_a_one_line_error(text: str, message: str) -> None:
    path = _write_config('base_url = "http://127.0.0.1:9/v1"\n' + text)
    with pytest.raises(ConfigError) as caught:
        load_settings({}, environ={}, path=path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_herald_config_shows_it(capsys: pytest.CaptureFixture[str]) -> None:
    _write_config('base_url = "http://127.0.0.1:9/v1"\n')
    assert cli(["--continuation", "prefill", "config"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("continuation "))
    assert "prefill" in line and line.endswith("(flag --continuation)")


def test_a_bad_flag_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--continuation", "maybe", "config"]) == 2
    assert "Traceback" not in capsys.readouterr().err


# ── --json ──────────────────────────────────────────────────────────────


def test_json_emits_stream_continued_instead_of_reset(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in {"HERALD_BASE_URL": fake.base_url, "HERALD_API_KEY": KEY, "HERALD_MODEL": "fake-model"}.items():
        monkeypatch.setenv(name, value)
    fake.enqueue(*cut_then_continue(TEXT, after=6, chunk_chars=5))
    assert cli(["--json", "--continuation", "prefill", "-q", "answer me"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    types = [e["type"] for e in events]
    assert "stream.reset" not in types and types.count("stream.continued") == 1
    before = "".join(e["text"] for e in events[: types.index("stream.continued")] if e["type"] == "text.delta")
    assert before == TEXT[:30]
    assert "".join(e["text"] for e in events if e["type"] == "text.delta") == TEXT
    assert events[-1]["final_response"] == TEXT


def test_the_json_display_writes_the_event() -> None:
    out = io.StringIO()
    JsonEventDisplay(out).on_stream_continued()
    assert json.loads(out.getvalue()) == {"type": "stream.continued", "v": 1}


# ── the displays keep what is on screen ─────────────────────────────────


def test_the_rich_display_keeps_the_screen_and_goes_on(clock: FakeClock) -> None:
    console, display = rich_display(clock)
    display.begin_turn()
    display.on_first_delta()
    feed(display, clock, ANSWER[:45])
    display.on_stream_continued()
    feed(display, clock, ANSWER[45:])
    display.end_turn()
    assert screen(console) == rendered(ANSWER)


def test_the_plain_display_adds_no_marker() -> None:
    out, err = io.StringIO(), io.StringIO()
    display = PlainDisplay(out, err)
    display.begin_turn()
    display.on_text(TEXT[:20])
    display.on_stream_continued()
    display.on_text(TEXT[20:])
    display.end_turn()
    assert out.getvalue().rstrip("\n") == TEXT and err.getvalue() == ""


