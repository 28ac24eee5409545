"""Failover in the CLI: `[[fallback]]` tables, key pools, `herald config`, and the "answered by" line."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterator

import pytest

from fakeprovider import FakeProvider, Reply
from herald.cli import cli
from herald.cli.answered import answered_by_line
from herald.cli.config import load_settings
from herald.cli.display import PlainDisplay, RichDisplay
from herald.errors import ConfigError
from herald.paths import config_dir

from .conftest import make_console
from .proc import herald_env, run_pipe

PRIMARY_KEY = "sk-primary-cli-aaaaaaaaaaaa1111"
SPARE_KEY = "sk-spare-cli-bbbbbbbbbbbbbb2222"
FALLBACK_KEY = "sk-fallback-cli-cccccccccccc3333"


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


def _write_config(text: str) -> Path:
    path = config_dir() / "config.toml"
    path.write_text(text)
    return path


def test_fallback_tables_key_pool_and_cooldown_from_the_file() -> None:
    path = _write_config(
        'model = "m1"\nbase_url = "https://a.example/v1"\n'
        f'api_keys = ["{PRIMARY_KEY}", "{SPARE_KEY}"]\nfailover_cooldown = 30\n\n'
        '[[fallback]]\nmodel = "claude-x"\nbase_url = "https://api.anthropic.com"\n'
        f'api_key = "{FALLBACK_KEY}"\n\n'
        '[[fallback]]\nmodel = "m2"\n'
    )
    settings = load_settings({}, environ={}, path=path)
    assert settings.api_keys == (PRIMARY_KEY, SPARE_KEY)
    assert settings.failover_cooldown == 30.0
    first, second = settings.fallbacks()
    assert first.endpoint.api_mode == "anthropic_messages" and first.keys == (FALLBACK_KEY,)
    assert second.endpoint.base_url == "https://a.example/v1" and second.keys == (PRIMARY_KEY, SPARE_KEY)


def test_herald_api_keys_is_a_comma_list() -> None:
    settings = load_settings({}, environ={"HERALD_API_KEYS": f"{PRIMARY_KEY}, {SPARE_KEY},"}, path=Path("/nonexistent/c.toml"))
    assert settings.api_keys == (PRIMARY_KEY, SPARE_KEY)
    assert settings.source("api_keys") == "env HERALD_API_KEYS"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('fallback = "x"\n', "fallback must be a list of strings"),  # the generic type check
        ('[[fallback]]\nmodle = "m"\n', "fallback 1: unknown key 'modle'"),
        ('[[fallback]]\nmodel = "m"\n[[fallback]]\napi_mode = "anthropic_messages"\n', "fallback 2: give a model or a base_url"),
        ('failover_cooldown = -5\n', "failover_cooldown must be a number of seconds"),
        ('api_keys = [1, 2]\n', "api_keys must be a list of strings"),
    ],
)
def test_bad_failover_settings_are_one_line_naming_the_file(text: str, message: str) -> None:
    path = _write_config(f'base_url = "https://a.example/v1"\n{text}')
    with pytest.raises(ConfigError) as caught:
        load_settings({}, environ={}, path=path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_herald_config_shows_the_pool_and_fallbacks_masked(capsys: pytest.CaptureFixture[str]) -> None:
    _write_config(
        f'base_url = "https://a.example/v1"\napi_keys = ["{PRIMARY_KEY}", "{SPARE_KEY}"]\n'
        f'[[fallback]]\nmodel = "claude-x"\nbase_url = "https://api.anthropic.com"\napi_key = "{FALLBACK_KEY}"\n'
    )
    assert cli(["config"]) == 0
    output = capsys.readouterr().out
    assert "api_keys" in output and "2 keys: sk-…1111, sk-…2222" in output
    assert re.search(r"^api_key\s+sk-…1111\s+\(first of api_keys: config file\)$", output, re.MULTILINE)
    assert "fallback[1]" in output and "claude-x via https://api.anthropic.com (anthropic_messages; key sk-…3333)" in output
    assert re.search(r"^failover_cooldown\s+30 s\s+\(default\)$", output, re.MULTILINE)
    for key in (PRIMARY_KEY, SPARE_KEY, FALLBACK_KEY):
        assert key not in output


def test_a_real_run_answers_from_the_fallback_and_says_so_in_one_dim_line(fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(text="answer from the fallback")
    _write_config(f'[[fallback]]\nmodel = "second-model"\nbase_url = "{second.base_url}"\napi_key = "{FALLBACK_KEY}"\n')
    env = herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=PRIMARY_KEY, HERALD_MODEL="first-model")
    done = run_pipe("-q", "hello", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"answer from the fallback\n"
    note = f"answered by second-model via 127.0.0.1:{second.port} (primary: 503 upstream error)"
    assert done.stderr.decode().strip() == note
    assert second.requests[0].headers["authorization"] == f"Bearer {FALLBACK_KEY}"
    for key in (PRIMARY_KEY, FALLBACK_KEY):
        assert key.encode() not in done.stdout + done.stderr


def test_every_provider_down_is_one_error_line_naming_each(fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=503)
    second.default = Reply(fault="echo_key")
    _write_config(f'[[fallback]]\nmodel = "second-model"\nbase_url = "{second.base_url}"\napi_key = "{FALLBACK_KEY}"\n')
    env = herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=PRIMARY_KEY, HERALD_MODEL="first-model")
    done = run_pipe("-q", "hello", env=env)
    assert done.returncode == 1
    lines = [line for line in done.stderr.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert "all 2 providers failed" in lines[0] and "first-model via" in lines[0] and "second-model via" in lines[0]
    assert "check HERALD_API_KEY" in lines[0], "the hint is the last provider's (a refused key)"
    for key in (PRIMARY_KEY, FALLBACK_KEY):
        assert key.encode() not in done.stdout + done.stderr


def test_answered_by_line() -> None:
    assert answered_by_line({"answered_by": None}) is None
    assert answered_by_line({"answered_by": {"model": "m1", "base_url": "https://a/v1", "skipped": []}}) is None
    result = {
        "answered_by": {
            "model": "m3",
            "base_url": "https://c.example/v1",
            "skipped": [
                {"model": "m1", "base_url": "https://a.example/v1", "reason": "503 upstream error"},
                {"model": "m2", "base_url": "https://b.example/v1", "reason": "unreachable: refused"},
            ],
        }
    }
    assert answered_by_line(result) == (
        "answered by m3 via c.example (primary: 503 upstream error; m2 via b.example: unreachable: refused)"
    )


def test_the_notice_is_dim_on_a_terminal_and_on_stderr_in_a_pipe() -> None:
    console = make_console(color=True)
    rich = RichDisplay(console, auto_refresh=False)
    rich.begin_turn()
    rich.on_first_delta()
    rich.on_text("the answer")
    rich.end_turn()
    rich.notice("answered by m2 via b.example (primary: 503)")
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[2manswered by m2 via b.example (primary: 503)" in output

    out, err = io.StringIO(), io.StringIO()
    plain = PlainDisplay(out, err)
    plain.on_text("the answer")
    plain.end_turn()
    plain.notice("answered by m2 via b.example (primary: 503)")
    assert out.getvalue() == "the answer\n"
    assert err.getvalue() == "answered by m2 via b.example (primary: 503)\n"
