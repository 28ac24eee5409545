"""The local model's start, seen by the user: a notice wrapped at word boundaries, a visible
"starting the local model… Ns", and `herald config` showing what will run."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

import herald.local
from herald.cli.commands import show_config
from herald.cli.config import load_settings
from herald.cli.local import NOTICE, STARTING, StartProgress, local_settings, write_wrapped

from .term import screen_lines


class FakeTerminal(io.StringIO):
    """A StringIO that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_notice_wraps_at_word_boundaries_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    terminal = FakeTerminal()
    text = NOTICE.format(model="gemma-3-270m")
    write_wrapped(terminal, text)
    lines = terminal.getvalue().splitlines()
    assert len(lines) > 3 and all(len(line) < 50 for line in lines)
    assert " ".join(lines) == text  # every word whole, none split
    piped = io.StringIO()
    write_wrapped(piped, text)
    assert piped.getvalue() == text + "\n"  # a pipe gets one line to grep


def test_the_notice_is_honest_about_the_model() -> None:
    text = NOTICE.format(model="gemma-3-270m")
    assert "pretrained" in text and "not instruction-tuned" in text and "HERALD_API_KEY" in text


def test_start_progress_counts_seconds_on_a_terminal() -> None:
    terminal = FakeTerminal()
    with StartProgress(terminal, interval=0.05):
        time.sleep(0.3)
    raw = terminal.getvalue()
    assert raw.count(f"{STARTING} 0s") >= 2  # redrawn while it waits
    (line,) = screen_lines(raw)
    assert line.startswith(f"{STARTING} ready in 0.") and line.endswith("s")


def test_start_progress_is_one_line_on_a_pipe_and_says_when_it_failed() -> None:
    piped = io.StringIO()
    with StartProgress(piped, interval=0.01):
        time.sleep(0.05)
    assert piped.getvalue().startswith(f"{STARTING} ready in ") and piped.getvalue().count("\n") == 1
    failed = io.StringIO()
    with pytest.raises(RuntimeError), StartProgress(failed):
        raise RuntimeError("no server")
    assert failed.getvalue() == f"{STARTING} failed\n"


@pytest.fixture
def local_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: True)
    return tmp_path / "missing.toml"


def test_local_settings_say_what_runs_and_a_users_choice_wins(local_by_default: Path) -> None:
    settings = load_settings({}, environ={}, path=local_by_default)
    ran = local_settings(settings, base_url="http://127.0.0.1:4321/v1", model="gemma-3-270m", n_ctx=4096)
    assert (ran.base_url, ran.model, ran.api_key, ran.api_mode) == ("http://127.0.0.1:4321/v1", "gemma-3-270m", None, "chat_completions")
    assert (ran.toolsets, ran.max_tokens, ran.temperature, ran.max_context_tokens, ran.max_continuations) == ((), 256, 0.0, 4096, 0)
    chosen = load_settings({"toolsets": "file", "max_tokens": 40}, environ={}, path=local_by_default)
    ran = local_settings(chosen, base_url="http://127.0.0.1:4321/v1", model="gemma-3-270m", n_ctx=4096)
    assert ran.toolsets == ("file",) and ran.max_tokens == 40
    assert ran.source("max_tokens") == "flag --max-tokens"


def test_config_shows_the_local_model_its_url_tools_and_cap(local_by_default: Path) -> None:
    lines: list[str] = []
    show_config(load_settings({}, environ={}, path=local_by_default), lines.append)
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "gemma-3-270m" in rows["model"] and "pretrained" in rows["model"]
    assert "http://127.0.0.1:<free port>/v1" in rows["base_url"]
    assert rows["toolsets"].split()[1] == "none" and "cannot call tools" in rows["toolsets"]
    assert rows["max_tokens"].split()[1] == "256"
    assert rows["max_context_tokens"].split()[1] == "4096"
    assert rows["local_model"].split()[1].endswith("gemma-3-270m-q4_k_m.gguf")
    assert "openrouter" not in "\n".join(lines).lower()  # nothing shown that will not run


def test_config_shows_all_toolsets_for_a_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_API_KEY", "sk-abcdefghijklmnop1234")
    lines: list[str] = []
    show_config(load_settings({}, path=tmp_path / "missing.toml"), lines.append)
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "all (terminal,file,web,memory)" in rows["toolsets"]
    assert "local" not in rows
