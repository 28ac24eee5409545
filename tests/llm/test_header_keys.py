"""The library refuses a key that cannot go in an HTTP header: ConfigError, at once, key unnamed."""

from __future__ import annotations

import pytest

from fakeprovider import FakeProvider, Reply
from herald import AIAgent, AsyncAIAgent, ConfigError
from herald.llm.keypool import check_keys

SECRET = "sk-secret-0123456789"


@pytest.mark.parametrize("bad", [SECRET + "\n", SECRET + "\r\nX: y", SECRET + "é", SECRET + "\x00", "\x7f" + SECRET])
def test_check_keys_names_the_source_not_the_key(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_keys(["fine", bad], "somewhere")
    message = str(caught.value)
    assert message.startswith("somewhere: key 2 cannot be sent in an HTTP header")
    assert SECRET not in message and "\n" not in message


def test_ordinary_keys_pass() -> None:
    check_keys(["sk-or-v1-abc_DEF-123", "sk-ant-api03-x.y~z", None], "here")


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"api_key": SECRET + "\ndef"}, "the api_key argument"),
        ({"api_keys": ["sk-good", SECRET + "é"]}, "the api_keys argument"),
        ({"api_key": "sk-good", "fallback": [{"model": "other", "api_key": SECRET + "\x01"}]}, "fallback 1"),
    ],
)
def test_the_agent_raises_config_error_before_any_request(fake: FakeProvider, options: dict, where: str) -> None:
    fake.default = Reply(text="never")
    for make in (AIAgent, AsyncAIAgent):
        with pytest.raises(ConfigError) as caught:
            make("fake-model", base_url=fake.base_url, **options)
        assert str(caught.value).startswith(where) and SECRET not in str(caught.value)
    assert fake.requests == []


def test_a_bad_key_in_the_environment_is_named(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_API_KEY", SECRET + "\ndef")
    with pytest.raises(ConfigError, match="^env HERALD_API_KEY: "):
        AIAgent("fake-model", base_url=fake.base_url)
    assert fake.requests == []
