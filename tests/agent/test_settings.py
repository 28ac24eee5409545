"""`AgentSettings` is the one place an agent's settings are named: the agents' arguments match it."""

from __future__ import annotations

import inspect
import pickle
from dataclasses import fields

import pytest

from herald import AIAgent, AsyncAIAgent
from herald.agent.settings import CALLBACK_NAMES, AgentSettings, Callbacks
from herald.errors import ConfigError

NOT_SETTINGS = {"session_id", "session_store"}


def test_aiagent_takes_every_setting_and_callback_with_the_settings_defaults() -> None:
    parameters = dict(inspect.signature(AIAgent.__init__).parameters)
    parameters.pop("self")
    settings = {f.name: f.default for f in fields(AgentSettings)}
    callbacks = {f"{name}_callback" for name in CALLBACK_NAMES}
    assert set(parameters) == set(settings) | callbacks | NOT_SETTINGS
    settings["fallback"] = None  # no fallbacks: the argument's None is stored as ()
    for name, default in settings.items():
        assert parameters[name].default == default, f"AIAgent's default for {name} differs from AgentSettings'"


def test_an_agent_built_from_arguments_holds_the_same_settings_as_from_settings(tmp_path) -> None:
    options = dict(max_tokens=64, max_continuations=1, cwd=str(tmp_path), skip_memory=True, skip_context_files=True,
                   fallback=[{"model": "b", "base_url": "http://127.0.0.1:9/v1"}], api_keys=["k1-000000000000", "k2-000000000000"],
                   enabled_toolsets=["file"], persist_session=False, base_url="http://127.0.0.1:9/v1")
    by_arguments = AIAgent("m", **options)  # type: ignore[arg-type]
    by_settings = AIAgent.from_settings(AgentSettings.of("m", **options))
    assert by_arguments.settings == by_settings.settings
    assert AsyncAIAgent("m", **options).settings == by_settings.settings
    seen: list[str] = []
    built = AsyncAIAgent.from_settings(by_settings.settings, stream_delta_callback=seen.append, max_concurrency=4)
    assert built.settings == by_settings.settings and built.callbacks.stream_delta == seen.append


def test_settings_are_frozen_picklable_and_keep_keys_out_of_repr() -> None:
    settings = AgentSettings.of("m", api_key="sk-secret-0000000000", api_keys=["sk-other-000000000"])
    with pytest.raises(AttributeError):
        settings.model = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert "secret" not in repr(settings) and "other-0" not in repr(settings)
    assert settings.but(max_tokens=5).max_tokens == 5 and settings.max_tokens is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_tokenz": 5}, "unknown agent setting 'max_tokenz'"),
        ({"max_iterations": 0}, "max_iterations must be at least 1"),
        ({"api_keys": "sk-one-string-000000"}, "api_keys must be a list of strings"),
    ],
)
def test_bad_settings_are_one_line_errors(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        AgentSettings.of("m", **options)
    assert "\n" not in str(raised.value)


def test_callbacks_are_named_as_the_agents_arguments() -> None:
    seen: list[str] = []
    assert Callbacks.of({"stream_delta_callback": seen.append}).stream_delta is not None
    with pytest.raises(ConfigError, match="unknown agent callback 'stream_callback'"):
        Callbacks.of({"stream_callback": seen.append})
    with pytest.raises(ConfigError, match="unknown agent callback"):
        AsyncAIAgent("m", strem_delta_callback=seen.append)
