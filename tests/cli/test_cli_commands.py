"""`herald config` and `herald sessions`, through `cli(args)` in-process and one real run."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeprovider import FakeProvider, Reply
from herald.cli import cli
from herald.cli.config import Settings, load_settings, resolve_provider
from herald.paths import config_dir

from .proc import herald_env, run_pipe

FILE_KEY = "sk-file-key-aaaaaaaaaaaaaaaa1111"
ENV_KEY = "sk-env-key-bbbbbbbbbbbbbbbbb2222"


def _write_config(text: str) -> Path:
    path = config_dir() / "config.toml"
    path.write_text(text)
    return path


def _config_rows(output: str) -> dict[str, str]:
    """name -> the rest of the line, from `herald config`."""
    rows = {}
    for line in output.splitlines()[1:]:
        name, _, rest = line.partition(" ")
        rows[name] = rest.strip()
    return rows


def test_precedence_flags_over_env_over_file_over_defaults(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _write_config(
        'model = "file-model"\nbase_url = "http://file.example:1/v1"\n'
        f'api_key = "{FILE_KEY}"\nstream = false\ntoolsets = ["file", "web"]\n'
    )
    monkeypatch.setenv("HERALD_MODEL", "env-model")
    monkeypatch.setenv("HERALD_BASE_URL", "http://env.example:2/v1")
    code = cli(["--model", "flag-model", "config"])
    output = capsys.readouterr().out
    assert code == 0
    rows = _config_rows(output)
    assert rows["model"].startswith("flag-model") and rows["model"].endswith("(flag --model)")
    assert rows["base_url"].startswith("http://env.example:2/v1") and rows["base_url"].endswith("(env HERALD_BASE_URL)")
    assert rows["api_key"].startswith("sk-…1111") and rows["api_key"].endswith("(config file)")
    assert rows["stream"].startswith("false") and rows["stream"].endswith("(config file)")
    assert rows["toolsets"].startswith("file,web")
    assert rows["yolo"].startswith("false") and rows["yolo"].endswith("(default)")
    assert FILE_KEY not in output


def test_env_key_beats_file_key_and_is_masked_in_a_real_run() -> None:
    _write_config(f'api_key = "{FILE_KEY}"\nmodel = "file-model"\n')
    done = run_pipe("config", env=herald_env(HERALD_API_KEY=ENV_KEY, HERALD_API_MODE="anthropic_messages"))
    output = done.stdout.decode()
    assert done.returncode == 0
    rows = _config_rows(output)
    assert rows["api_key"].startswith("sk-…2222") and rows["api_key"].endswith("(env HERALD_API_KEY)")
    assert rows["api_mode"].startswith("anthropic_messages") and rows["api_mode"].endswith("(env HERALD_API_MODE)")
    assert rows["model"].endswith("(config file)")
    assert ENV_KEY not in output and FILE_KEY not in output


def test_no_stream_flag_beats_a_file_that_says_stream() -> None:
    _write_config("stream = true\nyolo = true\n")
    settings = load_settings({"stream": False, "model": None})
    assert settings.stream is False and settings.source("stream") == "flag --stream"
    assert settings.yolo is True and settings.source("yolo") == "config file"


def test_toolsets_flag_is_a_checked_comma_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_settings({"toolsets": "file, terminal"}).toolsets == ("file", "terminal")
    assert cli(["--toolsets", "file,nope", "config"]) == 2
    assert "unknown toolset nope" in capsys.readouterr().err


def test_resolve_provider_hook_returns_settings_unchanged_for_now() -> None:
    settings = Settings(base_url="https://llm.example.com/v1")
    assert resolve_provider(settings) is settings


def test_sessions_list_show_search_delete_after_a_one_shot_run(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HERALD_BASE_URL", fake.base_url)
    monkeypatch.setenv("HERALD_API_KEY", "k")
    fake.enqueue(Reply(text="Aardvarks are nocturnal burrowing mammals."))
    assert cli(["-q", "tell me about aardvarks", "--model", "zoo-model"]) == 0
    assert capsys.readouterr().out == "Aardvarks are nocturnal burrowing mammals.\n"

    assert cli(["sessions", "list"]) == 0
    listing = capsys.readouterr().out.strip().splitlines()
    assert len(listing) == 1 and "zoo-model" in listing[0] and "tell me about aardvarks" in listing[0]
    session_id = listing[0].split()[0]

    assert cli(["sessions", "search", "nocturnal"]) == 0
    hits = capsys.readouterr().out
    assert session_id in hits and "assistant" in hits

    assert cli(["sessions", "show", session_id[:-2]]) == 0
    shown = capsys.readouterr().out
    assert "user: tell me about aardvarks" in shown and "assistant: Aardvarks are nocturnal" in shown

    assert cli(["sessions", "search", "zebras"]) == 0
    assert "no messages match" in capsys.readouterr().out

    assert cli(["sessions", "delete", session_id]) == 0
    assert cli(["sessions", "list"]) == 0
    assert "no sessions yet" in capsys.readouterr().out
    assert cli(["sessions", "show", session_id]) == 2
    assert "no session" in capsys.readouterr().err


def test_resume_sends_the_stored_history(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HERALD_BASE_URL", fake.base_url)
    monkeypatch.setenv("HERALD_API_KEY", "k")
    fake.enqueue(Reply(text="First answer."), Reply(text="Second answer."), Reply(text="Third answer."))
    assert cli(["-q", "first question"]) == 0
    assert cli(["-c", "-q", "second question"]) == 0
    capsys.readouterr()
    assert cli(["sessions", "list"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert "4 msgs" in line
    session_id = line.split()[0]
    assert cli(["--resume", session_id, "-q", "third question"]) == 0
    sent = [m["content"] for m in fake.requests[-1].body["messages"] if m["role"] != "system"]
    assert sent == ["first question", "First answer.", "second question", "Second answer.", "third question"]
    assert cli(["--resume", "nope", "-q", "x"]) == 2


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["frobnicate"]) == 2
    assert "No such command" in capsys.readouterr().err
