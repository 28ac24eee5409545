"""The provider named "local": resolved in one place, started on first use (no model needed here)."""

from __future__ import annotations

import pytest

import herald.local.shared as shared
from fakeprovider import FakeProvider, Reply
from herald import AIAgent, ConfigError
from herald.cli.config import load_settings
from herald.llm.clients import on_first_client
from herald.llm.endpoint import resolve_endpoint
from herald.llm.providers import ProviderSettings, fallback_settings, local_provider


def primary() -> ProviderSettings:
    endpoint = resolve_endpoint(model="m", base_url="https://llm.example.com/v1", api_key="sk-primary-000", environ={})
    return ProviderSettings("m", endpoint, ("sk-primary-000",))


def test_a_fallback_named_local_is_the_bundled_model_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "local_extra_available", lambda: True)
    (local,) = fallback_settings([{"model": "local"}], primary=primary(), environ={})
    assert local.model == "gemma-3-270m" and local.endpoint.is_local
    assert local.endpoint.base_url.startswith("http://127.0.0.1:") and local.endpoint.api_mode == "chat_completions"
    assert local.keys == (None,)  # the primary's key never goes there
    assert local_provider("local", None)[1] == local.endpoint.base_url  # one server per process
    assert local_provider("local", "http://10.0.0.5:8080/v1") == ("local", None)  # a server of that name elsewhere


def test_the_local_model_is_known_to_continue_a_cut_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # "auto" is on there from the start: its prompt formats leave a trailing assistant turn open.
    monkeypatch.setattr(shared, "local_extra_available", lambda: True)
    (local,) = fallback_settings([{"model": "local"}], primary=primary(), environ={})
    assert local.server_kind == "herald-local" and local.continues()
    assert not primary().continues()  # an unknown server: "auto" restarts
    from herald import Client

    client = Client("local")
    assert client.providers[0].server_kind == "herald-local" and client.continues(0)
    assert not Client("local", continuation="off").continues(0)


def test_without_the_extra_it_is_a_config_error_naming_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "local_extra_available", lambda: False)
    with pytest.raises(ConfigError, match=r"^fallback 1: model 'local': .*pip install 'herald\[local\]'"):
        fallback_settings([{"model": "local"}], primary=primary(), environ={})
    with pytest.raises(ConfigError, match=r"^model 'local'"):
        AIAgent("local")


def test_the_cli_model_local_means_the_local_model(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr("herald.local.local_extra_available", lambda: True)
    settings = load_settings({"model": "local"}, environ={"HERALD_API_KEY": "sk-x"}, path=tmp_path / "none.toml")
    assert settings.local and "model 'local'" in settings.source("local")


def test_the_server_starts_when_the_first_client_is_made(fake: FakeProvider) -> None:
    started: list[str] = []
    on_first_client(fake.base_url, lambda: started.append("start"))
    fake.default = Reply(text="Paris.")
    agent = AIAgent("m", base_url="http://127.0.0.1:9/v1", max_retries=0, persist_session=False,
                    fallback=[{"model": "m", "base_url": fake.base_url}], skip_context_files=True, skip_memory=True)
    assert started == []  # nothing starts before it is needed
    with agent:
        assert agent.run_conversation("capital of France?")["final_response"] == "Paris."
    assert started and fake.requests
