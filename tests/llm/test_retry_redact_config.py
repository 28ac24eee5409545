"""Backoff, key redaction, timeouts from the environment and endpoint resolution."""

import pytest

from herald.errors import ConfigError, ProviderError, RateLimitError
from herald.llm.endpoint import detect_api_mode, resolve_endpoint
from herald.llm.redact import mask_key, redact
from herald.llm.planner import CallPolicy
from herald.llm.sdk_errors import parse_retry_after
from herald.llm.timeouts import StreamTimeouts


def test_backoff_honours_retry_after_else_doubles_with_jitter():
    policy = CallPolicy(base_delay=0.5, max_delay=10)
    limited = RateLimitError("429", status=429, headers={"Retry-After": "2"}, retry_after=2.0)
    assert policy.backoff(1, limited) == 2.0
    assert 0.8 <= policy.backoff(2, ProviderError("503", status=503)) <= 1.2  # base doubled, ±20% jitter
    assert policy.backoff(9, ProviderError("503", status=503)) == 10  # capped
    assert CallPolicy(max_delay=5).backoff(1, RateLimitError("429", status=429, retry_after=3600)) == 5


def test_call_policy_rejects_nonsense():
    with pytest.raises(ConfigError):
        CallPolicy(max_retries=-1)
    with pytest.raises(ConfigError):
        CallPolicy(budget=0)


def test_retry_after_forms():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 1


def test_redaction_masks_given_secrets_and_key_shapes():
    key = "sk-or-v1-abcdef0123456789abcdef"
    text = redact(f"bad key {key} and also sk-proj-ZZZZZZZZZZZZZZZZZZZZ", [key])
    assert key not in text and "sk-proj-ZZZZZZZZZZZZZZZZZZZZ" not in text
    assert mask_key(key) == "sk-…cdef"


def test_timeouts_from_env_and_validation():
    limits = StreamTimeouts.from_env({"HERALD_STREAM_IDLE_TIMEOUT": "5", "HERALD_STREAM_TOTAL_TIMEOUT": "none"})
    assert (limits.idle, limits.total) == (5.0, None)
    with pytest.raises(ConfigError, match="HERALD_STREAM_FIRST_BYTE_TIMEOUT"):
        StreamTimeouts.from_env({"HERALD_STREAM_FIRST_BYTE_TIMEOUT": "soon"})
    with pytest.raises(ConfigError):
        StreamTimeouts(idle=-1)


def test_a_streams_socket_timeout_lies_past_its_longest_limit_and_falls_back_to_the_request_timeout() -> None:
    assert StreamTimeouts(first_byte=0.5, idle=2, total=None).socket_timeout(0.2) == 3.0
    assert StreamTimeouts(first_byte=0.5, idle=None, total=None).socket_timeout(10) == 11.0
    assert StreamTimeouts(first_byte=None, idle=None, total=None).socket_timeout(7) == 7
    assert StreamTimeouts(first_byte=None, idle=None, total=None).socket_timeout(None) is None


def test_endpoint_resolution_order():
    env = {"HERALD_API_KEY": "k1", "OPENROUTER_API_KEY": "k2", "HERALD_BASE_URL": "http://127.0.0.1:9/v1"}
    endpoint = resolve_endpoint(model="m", environ=env)
    assert (endpoint.base_url, endpoint.api_key, endpoint.key_source) == ("http://127.0.0.1:9/v1", "k1", "HERALD_API_KEY")
    assert endpoint.is_local
    endpoint = resolve_endpoint(model="m", environ={"OPENROUTER_API_KEY": "k2"})
    assert endpoint.base_url == "https://openrouter.ai/api/v1" and endpoint.api_key == "k2"
    assert resolve_endpoint(model="m", api_key="mine", environ=env).api_key == "mine"
    with pytest.raises(ConfigError, match="http"):
        resolve_endpoint(model="m", base_url="ftp://x", environ={})


def test_api_mode_detection():
    assert detect_api_mode("https://api.anthropic.com") == "anthropic_messages"
    assert detect_api_mode("https://chatgpt.com/backend-api/codex") == "codex_responses"
    assert detect_api_mode("http://localhost:8080/v1") == "chat_completions"


def test_agent_reads_api_mode_from_the_environment(monkeypatch):
    from herald.agent import AIAgent

    monkeypatch.setenv("HERALD_API_MODE", "anthropic_messages")
    assert AIAgent(model="m", base_url="http://127.0.0.1:9").api_mode == "anthropic_messages"
    monkeypatch.setenv("HERALD_API_MODE", "telepathy")
    with pytest.raises(ConfigError, match="telepathy"):
        AIAgent(model="m")
