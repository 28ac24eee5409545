"""The gateway's TOML file: every mistake is one line naming the file and the key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from herald.errors import ConfigError
from herald.serve.config import load_config

GOOD = """
keys = ["gw-key"]
stream_idle_timeout = 5
max_retries = 1
[[models]]
name = "fast"
providers = [
  { model = "m1", base_url = "http://127.0.0.1:9/v1" },
  { model = "m2", base_url = "http://127.0.0.1:9", api_mode = "anthropic_messages", api_key = "sk-provider" },
]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_a_good_file_gives_client_arguments(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD), port=0)
    (route,) = config.models
    assert route.client_arguments() == {
        "model": "m1", "base_url": "http://127.0.0.1:9/v1", "api_mode": "chat_completions", "api_keys": [], "continuation": "auto",
        "fallback": [{"model": "m2", "base_url": "http://127.0.0.1:9", "api_mode": "anthropic_messages", "api_keys": ["sk-provider"],
                      "continuation": "auto"}],
        "environ": {},  # nothing else of the environment reaches a provider
    }
    assert config.limits == {"stream_idle_timeout": 5.0, "max_retries": 1}
    assert (config.port, config.keys) == (0, ("gw-key",))
    assert set(config.secrets()) == {"gw-key", "sk-provider"}


def test_continuation_is_a_key_of_each_provider_table(tmp_path: Path) -> None:
    text = GOOD.replace('base_url = "http://127.0.0.1:9/v1" }', 'base_url = "http://127.0.0.1:9/v1", continuation = "prefill" }')
    text = text.replace('api_key = "sk-provider" }', 'api_key = "sk-provider", continuation = "off" }')
    (route,) = load_config(_write(tmp_path, text)).models
    assert "continuation" in route.providers[0]
    arguments = route.client_arguments()
    assert arguments["continuation"] == "prefill"  # the primary's, as AsyncClient's argument
    assert arguments["fallback"][0]["continuation"] == "off"  # a fallback's, in its table
    from herald.client import AsyncClient

    client = AsyncClient(**arguments)
    assert [p.continuation for p in client.providers] == ["prefill", "off"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[models]]\nname = 'a'\nproviders = [{ model='m', base_url = 'http://127.0.0.1:1', continuation = 'always' }]\n",
         r"models\[1\] \(a\).providers\[1\]: continuation must be one of off, auto, prefill, not 'always'"),
        ("[[models]]\nname = 'a'\nproviders = [{ model='m', base_url = 'http://127.0.0.1:1' }, { model = 'n', continuation = true }]\n",
         r"models\[1\] \(a\).providers\[2\]: continuation must be a string"),
        ("nonsense = 1\n", "unknown key 'nonsense'"),
        ("port = 'x'\n", "port: must be a whole number"),
        ("stream_idle_timeout = -1\n[[models]]\nname='a'\nproviders=[{model='m',base_url='http://127.0.0.1:1'}]\n", "stream_idle_timeout: must be"),
        ("", "models: give at least one"),
        ("[[models]]\nname = 'a'\n", r"models\[1\] \(a\).providers: must be"),
        ("[[models]]\nname = 'a'\nproviders = [{ base_url = 'http://127.0.0.1:1' }]\n", "providers\\[1\\]: the first provider needs model and base_url"),
        ("[[models]]\nname = 'a'\nproviders = [{ model='m', base_url = 'ftp://x' }]\n", r"providers\[1\]: .*http"),
        ("[[models]]\nname = 'a'\nproviders = [{ model='m', base_url = 'http://127.0.0.1:1', api_mode = 'smoke' }]\n", r"providers\[1\]: .*api_mode"),
        ("[[models]]\nname = 'a'\nproviders = [{ model='m', base_url = 'https://api.example.com/v1' }]\n", r"providers\[1\]: api_key: required"),
        ("host = '0.0.0.0'\n[[models]]\nname='a'\nproviders=[{model='m',base_url='http://127.0.0.1:1'}]\n", "keys: required when listening on 0.0.0.0"),
        ("[[models]]\nname='a'\nproviders=[{model='m',base_url='http://127.0.0.1:1'}]\n[[models]]\nname='a'\nproviders=[{model='m',base_url='http://127.0.0.1:1'}]\n", "used twice"),
        ("[models\n", "not valid TOML"),
    ],
)
def test_a_bad_file_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)


def test_the_command_says_one_line_and_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('api_key = "sk-provider"', 'api_key = "sk-provider", colour = "red"'))
    done = subprocess.run(
        [sys.executable, "-m", "herald", "serve", "--config", str(path), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"herald: error: {path}: models[1] (fast).providers[2]: unknown key 'colour' (known: model, ")
    assert "sk-provider" not in done.stderr + done.stdout


def test_keys_come_from_each_table_or_its_hosts_own_variable_never_the_clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's HERALD_API_KEY(S) / HERALD_API_MODE belong to its primary: the gateway sends none of
    them, to any model. A table without a key gets its host's own variable, as a [[fallback]] does."""
    monkeypatch.setenv("HERALD_API_KEY", "sk-herald-cli")
    monkeypatch.setenv("HERALD_API_KEYS", "sk-herald-pool-1,sk-herald-pool-2")
    monkeypatch.setenv("HERALD_API_MODE", "codex_responses")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-env")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-anthropic-env")
    path = _write(tmp_path, """
[[models]]
name = "cloud"
providers = [{ model = "gpt-4o-mini", base_url = "https://api.openai.com/v1" }, { model = "claude-haiku-4-5", base_url = "https://api.anthropic.com" }]
[[models]]
name = "mine"
providers = [{ model = "qwen", base_url = "http://10.0.0.5:8000/v1" }]
""")
    from herald.client import AsyncClient

    cloud, mine = (AsyncClient(**route.client_arguments()) for route in load_config(path).models)
    assert [(p.keys, p.endpoint.api_mode) for p in cloud.providers] == [
        (("sk-openai-env",), "chat_completions"), (("sk-anthropic-env",), "anthropic_messages")]
    assert [(p.keys, p.endpoint.api_mode) for p in mine.providers] == [((None,), "chat_completions")]  # no key: none sent
