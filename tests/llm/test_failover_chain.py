"""The failover decisions, sans-IO: which provider and key next, and what each failure teaches."""

from __future__ import annotations

import asyncio

import pytest

from herald.errors import (
    AuthenticationError,
    BadResponse,
    ConfigError,
    Interrupted,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
)
from herald.llm.endpoint import Endpoint
from herald.llm.failover import (
    Attempt,
    FailoverPolicy,
    ProviderChain,
    ProviderInfo,
    RotatingRetryPolicy,
    acall_with_failover,
    call_with_failover,
    classify,
    failure_summary,
)
from herald.llm.keypool import KeyPool, parse_keys, pool_keys
from herald.llm.providers import ProviderSettings, fallback_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def http(status: int, message: str = "boom", retry_after: float | None = None) -> ProviderError:
    cls = {401: AuthenticationError, 403: AuthenticationError, 404: ModelNotFoundError, 429: RateLimitError}.get(status, ProviderError)
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return cls(f"h answered HTTP {status}: {message}", status=status, provider_message=message, headers=headers)


A = ProviderInfo("m1", "https://a.example/v1", keys=2)
B = ProviderInfo("m2", "https://b.example/v1")
C = ProviderInfo("m1", "https://c.example/v1")


def chain(*providers: ProviderInfo, clock: Clock | None = None, **policy: float) -> ProviderChain:
    return ProviderChain(providers or (A, B), FailoverPolicy(**policy), clock=clock or Clock())


def walk(plan, errors: list[BaseException | None]) -> list[tuple[int, int]]:
    """Feed one outcome per attempt (None = success); the (provider, key) pairs tried."""
    tried = []
    for error in errors:
        attempt = plan.next()
        assert attempt is not None, f"plan ended after {tried}"
        tried.append((attempt.provider, attempt.key))
        if error is None:
            plan.succeeded(attempt)
            break
        assert plan.failed(attempt, error)
    return tried


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (http(500), "dead"),
        (http(503), "dead"),
        (http(404), "dead"),
        (http(408), "dead"),
        (ProviderUnreachable("h unreachable: refused"), "dead"),
        (ProviderUnreachable("h timed out: read"), "dead"),
        (BadResponse("h sent HTML"), "dead"),
        (http(401), "key_refused"),
        (http(403), "key_refused"),
        (ConfigError("no API key for h"), "key_refused"),
        (http(402, "Insufficient credits"), "key_quota"),
        (http(429, "You exceeded your current quota, please check your plan and billing details."), "key_quota"),
        (http(429, "Rate limit reached for requests"), "rate_limited"),
        (http(400, "This model's maximum context length is 8192 tokens"), "request_rejected"),
        (http(413), "request_rejected"),
        (http(422), "request_rejected"),
        (Interrupted(), None),
        (ValueError("a bug"), None),
        (Exception("Rate limit exceeded"), None),  # not a Herald error: never guessed at
    ],
)
def test_classify(error: BaseException, outcome: str | None) -> None:
    assert classify(error) == outcome


def test_a_dead_provider_rests_for_the_cooldown_then_is_probed_again() -> None:
    clock = Clock()
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B, clock=clock, cooldown=120)
    assert walk(providers.plan(), [http(503), None]) == [(0, 0), (1, 0)]
    assert providers.is_down(0)
    clock.now += 119
    assert walk(providers.plan(), [None]) == [(1, 0)]  # no request wasted on the dead primary
    clock.now += 2
    assert not providers.is_down(0)
    assert walk(providers.plan(), [None]) == [(0, 0)]  # probed, and it answered: healthy again
    assert walk(providers.plan(), [None]) == [(0, 0)]


def test_a_resting_provider_is_the_last_resort_not_a_refusal() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B)
    walk(providers.plan(), [http(503), http(503)])
    assert providers.is_down(0) and providers.is_down(1)
    # Everything is resting: still try, in order, rather than fail without a request.
    assert walk(providers.plan(), [http(503), None]) == [(0, 0), (1, 0)]


def test_a_refused_key_is_skipped_for_the_agents_life() -> None:
    clock = Clock()
    providers = chain(clock=clock)
    assert walk(providers.plan(), [http(401), None]) == [(0, 0), (0, 1)]
    clock.now += 10**6
    assert walk(providers.plan(), [None]) == [(0, 1)]
    assert walk(providers.plan(), [http(401), None]) == [(0, 1), (1, 0)]  # no key of A is left
    clock.now += 10**6
    assert walk(providers.plan(), [None]) == [(1, 0)]


def test_a_429_rotates_to_the_next_key_and_the_key_that_worked_is_tried_first() -> None:
    clock = Clock()
    providers = chain(clock=clock)
    assert providers.has_spare_key(0, 0)
    assert walk(providers.plan(), [http(429, retry_after=30), None]) == [(0, 0), (0, 1)]
    assert not providers.has_spare_key(0, 1)  # key 1 rests for its Retry-After
    clock.now += 31
    assert providers.has_spare_key(0, 1)
    assert walk(providers.plan(), [None]) == [(0, 1)]  # the key that worked, first


def test_a_rate_limited_key_without_retry_after_rests_for_the_key_cooldown() -> None:
    clock = Clock()
    providers = chain(clock=clock, key_cooldown=60)
    walk(providers.plan(), [http(429), None])
    walk(providers.plan(), [http(429)])  # key 2 too: both rest now
    clock.now += 59
    assert providers.is_down(0)
    clock.now += 2
    assert not providers.is_down(0)


def test_a_quota_error_cools_the_key_down_longer() -> None:
    clock = Clock()
    providers = chain(clock=clock, quota_cooldown=3600, key_cooldown=60)
    assert walk(providers.plan(), [http(402), None]) == [(0, 0), (0, 1)]
    clock.now += 61
    assert walk(providers.plan(), [http(429), None]) == [(0, 1), (1, 0)]  # key 1 still out of quota
    clock.now += 3600
    assert walk(providers.plan(), [None]) == [(0, 1)]  # back, but key 2 (the last to work) first


def test_a_request_rejected_goes_only_to_a_provider_whose_model_differs() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), C, B)
    context = http(400, "maximum context length exceeded")
    # C runs the same model m1: it would reject the same request; B's model differs.
    assert walk(providers.plan(), [context, None]) == [(0, 0), (2, 0)]
    assert not providers.is_down(0)  # the provider is fine; the request was wrong


def test_a_request_rejected_with_no_other_model_propagates_unchanged() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), C)
    context = http(400, "maximum context length exceeded")
    plan = providers.plan()
    assert walk(plan, [context]) == [(0, 0)]
    assert plan.next() is None
    assert plan.error() is context


def test_when_every_provider_fails_the_last_error_names_each_one_tried() -> None:
    providers = chain(A, B, ProviderInfo("m3", "https://c.example/v1"))
    plan = providers.plan()
    last = http(500, "internal")
    walk(plan, [http(401, "bad key"), http(401, "bad key"), ProviderUnreachable("b.example unreachable: refused"), last])
    assert plan.next() is None
    error = plan.error()
    assert type(error) is ProviderError and error.status == 500 and error.__cause__ is last
    text = str(error)
    assert text.startswith("all 3 providers failed (")
    assert "m1 via a.example: key 1/2 401 bad key, key 2/2 401 bad key" in text
    assert "m2 via b.example: unreachable: refused" in text
    assert "m3 via c.example: 500 internal" in text
    assert text.endswith(f"last error: {last}")


def test_a_single_attempt_raises_its_own_error_unchanged() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"))
    plan = providers.plan()
    error = http(503)
    walk(plan, [error])
    assert plan.next() is None and plan.error() is error


def test_with_every_key_refused_earlier_nothing_is_sent_and_the_error_says_why() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"))
    walk(providers.plan(), [http(401, "revoked")])
    plan = providers.plan()
    assert plan.next() is None
    error = plan.error()
    assert isinstance(error, AuthenticationError)
    assert "not tried: every key refused (401 revoked)" in str(error)


def test_answered_by_names_the_providers_that_did_not_answer() -> None:
    clock = Clock()
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B, clock=clock)
    plan = providers.plan()
    walk(plan, [http(503, "upstream error"), None])
    assert plan.answered_by() == {
        "model": "m2",
        "base_url": "https://b.example/v1",
        "skipped": [{"model": "m1", "base_url": "https://a.example/v1", "reason": "503 upstream error"}],
    }
    later = providers.plan()
    walk(later, [None])  # the primary rests: not tried, and the reason says so
    assert later.answered_by()["skipped"][0]["reason"] == "resting after: 503 upstream error"  # type: ignore[index]


def test_update_forgets_what_the_old_model_taught() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B)
    walk(providers.plan(), [http(404), None])
    assert providers.is_down(0)
    providers.update(0, ProviderInfo("m1-new", "https://a.example/v1"))
    assert not providers.is_down(0)


def test_failure_summary_is_short_and_drops_the_host() -> None:
    assert failure_summary(http(503, "upstream error")) == "503 upstream error"
    assert failure_summary(ProviderUnreachable("a.example:443 timed out: read"), "a.example:443") == "timed out: read"
    assert failure_summary(http(500, "x" * 300)).endswith("…")
    assert len(failure_summary(http(500, "x" * 300))) == 100


# ── drivers ─────────────────────────────────────────────────────────────


def test_sync_driver_fails_over_and_propagates_what_is_not_a_provider_failure() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B)

    def run(attempt: Attempt) -> str:
        if attempt.provider == 0:
            raise http(503)
        return "answer"

    plan = providers.plan()
    assert call_with_failover(plan, run, is_interrupted=lambda: False) == "answer"
    assert plan.answered == Attempt(1, 0, 2)

    def bug(attempt: Attempt) -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_failover(providers.plan(), bug, is_interrupted=lambda: False)


def test_drivers_never_fail_over_an_interrupt() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B)
    tried: list[int] = []

    def run(attempt: Attempt) -> str:
        tried.append(attempt.provider)
        raise Interrupted()

    with pytest.raises(Interrupted):
        call_with_failover(providers.plan(), run, is_interrupted=lambda: True)

    def failing(attempt: Attempt) -> str:
        tried.append(attempt.provider)
        raise http(503)

    # Interrupted while the primary was failing: the fallback is not started.
    with pytest.raises(Interrupted):
        call_with_failover(providers.plan(), failing, is_interrupted=lambda: True)
    assert tried == [0, 0]


def test_async_driver_walks_the_same_plan() -> None:
    providers = chain(ProviderInfo("m1", "https://a.example/v1"), B)

    async def run(attempt: Attempt) -> str:
        await asyncio.sleep(0)
        if attempt.provider == 0:
            raise http(502)
        return "async answer"

    plan = providers.plan()
    assert asyncio.run(acall_with_failover(plan, run, is_interrupted=lambda: False)) == "async answer"
    assert plan.answered_by()["model"] == "m2"  # type: ignore[index]


# ── the retry layer's side ──────────────────────────────────────────────


def test_rotating_retry_policy_does_not_wait_out_a_429_when_a_key_is_spare() -> None:
    spare = [True]
    policy = RotatingRetryPolicy(max_retries=3, spare_key=lambda: spare[0])
    assert not policy.should_retry(http(429))
    spare[0] = False
    assert policy.should_retry(http(429))
    assert not policy.should_retry(http(429, "insufficient_quota: you exceeded your current quota"))
    assert policy.should_retry(http(503)) and policy.should_retry(ProviderUnreachable("x"))
    assert not policy.should_retry(http(401))


def test_failover_policy_rejects_nonsense() -> None:
    with pytest.raises(ConfigError, match="cooldown"):
        FailoverPolicy(cooldown=-1)
    with pytest.raises(ConfigError, match="cooldown"):
        FailoverPolicy(cooldown="soon")  # type: ignore[arg-type]


# ── key pools ───────────────────────────────────────────────────────────


def test_key_pool_never_holds_a_key() -> None:
    pool = KeyPool(3)
    pool.refuse(1)
    pool.cool(0, until=50.0)
    assert pool.usable(10.0) == [2]
    assert pool.waiting(10.0) == [0]
    assert pool.candidates(10.0) == [2]
    pool.refuse(2)
    assert pool.candidates(10.0) == [0]
    assert pool.ready_at(10.0) == 50.0
    pool.refuse(0)
    assert pool.all_refused and pool.ready_at(10.0) is None


def test_parse_keys_and_pool_keys() -> None:
    assert parse_keys(" k1, k2,,k1 ,k3 ") == ("k1", "k2", "k3")
    assert pool_keys("k0", ["k1", "k0"]) == ("k0", "k1")
    assert pool_keys(None, []) == (None,)


# ── fallback entries ────────────────────────────────────────────────────

PRIMARY = ProviderSettings("m1", Endpoint("https://openrouter.ai/api/v1", "sk-or-primary-key", "chat_completions"), ("sk-or-primary-key",))


def test_fallback_entries_default_to_the_primarys_model_or_base_url() -> None:
    same_host, other = fallback_settings(
        [{"model": "m2"}, {"base_url": "https://api.anthropic.com", "api_keys": ["a1", "a2"]}], primary=PRIMARY, environ={}
    )
    assert same_host.endpoint.base_url == PRIMARY.endpoint.base_url and same_host.keys == PRIMARY.keys
    assert other.model == "m1" and other.endpoint.api_mode == "anthropic_messages" and other.keys == ("a1", "a2")


def test_the_primarys_key_is_never_sent_to_another_host() -> None:
    environ = {"HERALD_API_KEY": "sk-herald", "OPENROUTER_API_KEY": "sk-or", "ANTHROPIC_API_KEY": "sk-ant-own"}
    anthropic, local, unknown = fallback_settings(
        [{"base_url": "https://api.anthropic.com"}, {"base_url": "http://127.0.0.1:8080/v1"}, {"base_url": "https://llm.example/v1"}],
        primary=PRIMARY,
        environ=environ,
    )
    assert anthropic.keys == ("sk-ant-own",) and anthropic.endpoint.key_source == "ANTHROPIC_API_KEY"
    assert local.keys == (None,)
    assert unknown.keys == (None,)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("https://x", "fallback 1: must be a table"),
        ({"modle": "x"}, "fallback 1: unknown key 'modle'"),
        ({"model": 3}, "fallback 1: model must be a string"),
        ({"model": "m", "api_keys": "k1,k2"}, "fallback 1: api_keys must be a list of strings"),
        ({"api_key": "k"}, "fallback 1: give a model or a base_url"),
        ({"base_url": "ftp://x"}, "fallback 1: base URL 'ftp://x' is not an http"),
        ({"model": "m", "api_mode": "smoke"}, "fallback 1: unknown api_mode 'smoke'"),
    ],
)
def test_bad_fallback_entries_are_one_clear_line(entry: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        fallback_settings([entry], primary=PRIMARY, environ={})  # type: ignore[list-item]
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
