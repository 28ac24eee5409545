"""The attempt planner, sans-IO: every request of a call decided in one place (no server, no clock).

`drive` plays a call's plan against scripted outcomes (an error, or None for an answer) and a
clock the test moves, and returns what the plan did: each request's (provider, key, mode) and
each wait. The same plan runs over HTTP, for both agents, in tests/behaviour/ (test_behaviour_failover.py,
test_behaviour_conduct.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from herald.errors import (
    AuthenticationError,
    BadResponse,
    ConfigError,
    IncompleteStream,
    Interrupted,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
    StreamStalled,
)
from herald.llm.classify import classify
from herald.llm.endpoint import Endpoint
from herald.llm.failover import FailoverPolicy, ProviderChain, ProviderInfo, failure_summary
from herald.llm.fallback import StreamSupportMemory
from herald.llm.keypool import KeyPool, parse_keys, pool_keys
from herald.llm.planner import CallPolicy, CallSetup, Send, Wait, plan_call
from herald.llm.providers import ProviderSettings, fallback_settings
from herald.llm.records import AttemptRecord
from herald.llm.sink import DeltaSink
from herald.llm.types import Choice, LLMResponse, Message
from herald.llm.wires import wire_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def http(status: int, message: str = "boom", retry_after: float | None = None) -> ProviderError:
    cls = {401: AuthenticationError, 403: AuthenticationError, 404: ModelNotFoundError, 429: RateLimitError}.get(status, ProviderError)
    return cls(f"h answered HTTP {status}: {message}", status=status, provider_message=message, retry_after=retry_after)


def answer(text: str = "ok") -> LLMResponse:
    return LLMResponse([Choice(Message(content=text), "stop")], model="reported-model")


A = ProviderInfo("m1", "https://a.example/v1", keys=2)
B = ProviderInfo("m2", "https://b.example/v1")
C = ProviderInfo("m1", "https://c.example/v1")


class Call:
    """A chain (kept between calls, as a client keeps it) and a driver for one call at a time."""

    def __init__(self, *providers: ProviderInfo, streaming: bool = True, **policy: Any) -> None:
        self.clock = Clock()
        cooldowns = {k: policy.pop(k) for k in list(policy) if k in ("cooldown", "max_cooldown", "key_cooldown", "quota_cooldown")}
        self.chain = ProviderChain(providers or (A, B), FailoverPolicy(**cooldowns), clock=self.clock)
        self.memory = StreamSupportMemory()
        self.policy = CallPolicy(**{"base_delay": 1.0, **policy})
        self.streaming = streaming
        self.records: list[AttemptRecord] = []
        self.resets = 0

    def setup(self, **more: Any) -> CallSetup:
        return CallSetup(
            chain=self.chain,
            wires=[wire_for("chat_completions")] * len(self.chain.providers),
            request_for=lambda p: {"model": self.chain.providers[p].model, "messages": []},
            memory=self.memory,
            policy=self.policy,
            make_sink=(lambda: DeltaSink(text_callbacks=[lambda text: None], reset_callback=self._reset)) if self.streaming else None,
            on_attempt=self.records.append,
            clock=self.clock,
            **more,
        )

    def _reset(self) -> None:
        self.resets += 1

    def drive(self, outcomes: list[BaseException | None], **more: Any) -> tuple[list[tuple[int, int, str] | float], Any]:
        """Play the outcomes in order; returns (what the plan did, the answer or the error raised)."""
        plan = plan_call(self.setup(**more))
        did: list[tuple[int, int, str] | float] = []
        outcomes = list(outcomes)
        try:
            step = next(plan)
            while True:
                if isinstance(step, Wait):
                    did.append(step.seconds)
                    self.clock.now += step.seconds
                    step = plan.send(None)
                    continue
                assert isinstance(step, Send)
                did.append((step.attempt.provider, step.attempt.key, step.mode))
                assert outcomes, f"the plan sent more than was scripted: {did}"
                outcome = outcomes.pop(0)
                self.clock.now += 0.1
                step = plan.send(answer()) if outcome is None else plan.throw(outcome)
        except StopIteration as done:
            return did, done.value
        except Exception as error:  # noqa: BLE001 - the call's error
            return did, error


# ── classification ──────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("error", "streaming", "kind"),
    [
        (IncompleteStream("cut"), True, "stream_failed"),
        (IncompleteStream("not_sse"), True, "stream_failed"),
        (StreamStalled("first_byte", 30), True, "stalled"),
        (ProviderUnreachable.timeout("h timed out"), False, "stalled"),
        (http(429), True, "rate_limited"),
        (http(503, retry_after=2), True, "rate_limited"),
        (http(503), True, "server_error"),
        (http(500), False, "server_error"),
        (http(402, "Insufficient credits"), True, "quota"),
        (http(429, "You exceeded your current quota, please check your plan and billing details."), True, "quota"),
        (http(401), True, "auth"),
        (ConfigError("no API key for h"), True, "auth"),
        (http(404), True, "not_found"),
        (http(400, "This model's maximum context length is 8192 tokens"), True, "context_length"),
        (http(400, "Your request was rejected as a result of our safety system."), True, "content_policy"),
        (http(400, "The response was filtered due to the prompt triggering content management policy"), True, "content_policy"),
        (http(400, "Invalid value for 'temperature'"), True, "rejected"),
        (http(400, "Streaming is not supported for this model"), True, "stream_failed"),
        (http(400, "Streaming is not supported for this model"), False, "rejected"),
        (http(400, ""), True, "stream_failed"),  # names nothing: the plain request decides
        (http(500, "Internal error while handling stream_options"), True, "stream_failed"),
        (ProviderUnreachable("h unreachable: reset"), True, "unreachable"),
        (BadResponse("h sent HTML"), True, "stream_failed"),
        (BadResponse("h sent HTML"), False, "server_error"),
        (Interrupted(), True, "interrupted"),
        (Exception("Connection reset by peer"), True, "stream_failed"),  # unclassified on a stream: one plain request
        (Exception("Rate limit exceeded"), False, "unknown"),  # not a Herald error: never guessed at
    ],
)
def test_classify(error: BaseException, streaming: bool, kind: str) -> None:
    assert classify(error, streaming=streaming) == kind


# ── the rules, one provider ─────────────────────────────────────────────


def test_a_stream_specific_failure_gets_one_plain_request_to_the_same_key() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"))
    did, result = call.drive([IncompleteStream("cut"), None])
    assert did == [(0, 0, "stream"), (0, 0, "plain")]
    assert result.message.content == "ok" and "fallback_reason" in result.extras
    assert [(r.outcome, r.next) for r in call.records] == [("stream_failed", "plain"), ("ok", None)]


def test_when_the_plain_request_fails_too_its_error_propagates_unchanged() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"), max_retries=0)
    plain_error = Exception("Rate limit exceeded")
    did, result = call.drive([Exception("stream broke"), plain_error])
    assert did == [(0, 0, "stream"), (0, 0, "plain")] and result is plain_error


def test_silence_without_another_provider_gets_one_more_attempt_then_gives_up() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"))
    did, result = call.drive([StreamStalled("first_byte", 30), ProviderUnreachable.timeout("timed out")])
    assert did == [(0, 0, "stream"), (0, 0, "plain")]
    assert isinstance(result, ProviderUnreachable)


def test_silence_with_another_provider_fails_over_at_once() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B)
    did, result = call.drive([StreamStalled("idle", 30), None])
    assert did == [(0, 0, "stream"), (1, 0, "stream")]
    assert result.extras["answered_by"]["model"] == "m2"
    assert call.chain.is_down(0)


def test_a_429_waits_for_retry_after_and_never_sends_a_plain_request_meanwhile() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"), max_retries=2)
    did, result = call.drive([http(429, retry_after=2), http(429, retry_after=2), None])
    assert did == [(0, 0, "stream"), 2.0, (0, 0, "stream"), 2.0, (0, 0, "stream")]
    assert result.message.content == "ok"


def test_a_429_rotates_to_a_ready_key_then_a_ready_provider_before_waiting() -> None:
    call = Call(A, B, max_retries=3)
    did, _ = call.drive([http(429, retry_after=30), http(429, retry_after=30), None])
    assert did == [(0, 0, "stream"), (0, 1, "stream"), (1, 0, "stream")]


def test_a_wait_longer_than_the_time_left_fails_over_or_gives_up_at_once() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"), budget=10)
    did, result = call.drive([http(429, retry_after=60)])
    assert did == [(0, 0, "stream")] and isinstance(result, RateLimitError)
    call = Call(ProviderInfo("m1", "https://a/v1"), B, budget=10)
    did, _ = call.drive([http(429, retry_after=60), None])
    assert did == [(0, 0, "stream"), (1, 0, "stream")]


@pytest.mark.parametrize("message", ["This model's maximum context length is 8192 tokens", "Invalid value for 'temperature'"])
def test_a_4xx_naming_its_cause_is_never_resent_to_the_same_model(message: str) -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), C, B)  # C has the same model elsewhere: not tried either
    did, result = call.drive([http(400, message), None])
    assert did == [(0, 0, "stream"), (2, 0, "stream")]
    call = Call(ProviderInfo("m1", "https://a/v1"), C)
    did, result = call.drive([http(400, message)])
    assert did == [(0, 0, "stream")] and isinstance(result, ProviderError) and message in str(result)


def test_content_policy_propagates_with_the_reason_and_is_not_failed_over_unless_allowed() -> None:
    refusal = http(400, "Your request was rejected as a result of our safety system.")
    call = Call(ProviderInfo("m1", "https://a/v1"), B)
    did, result = call.drive([refusal])
    assert did == [(0, 0, "stream")] and "safety system" in str(result)
    call = Call(ProviderInfo("m1", "https://a/v1"), B, failover_on_content_policy=True)
    did, _ = call.drive([refusal, None])
    assert did == [(0, 0, "stream"), (1, 0, "stream")]


def test_auth_moves_to_the_next_key_then_the_next_provider() -> None:
    call = Call(A, B)
    did, _ = call.drive([http(401), http(403), None])
    assert did == [(0, 0, "stream"), (0, 1, "stream"), (1, 0, "stream")]
    did, _ = call.drive([None])
    assert did == [(1, 0, "stream")], "every key of A was refused: never again"


def test_a_5xx_is_retried_with_jittered_backoff_then_failed_over() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, max_retries=2)
    did, _ = call.drive([http(503), http(503), http(503), None])
    assert [d if isinstance(d, tuple) else round(d) for d in did] == [(0, 0, "stream"), 1, (0, 0, "stream"), 2, (0, 0, "stream"), (1, 0, "stream")]
    assert 0.8 <= did[1] <= 1.2 and 1.6 <= did[3] <= 2.4  # type: ignore[operator]


def test_a_connection_refused_on_this_machine_fails_over_without_retries() -> None:
    refused = ProviderUnreachable("127.0.0.1:9 unreachable")
    refused.__cause__ = ConnectionRefusedError()
    refused.__cause__.request = type("R", (), {"url": type("U", (), {"host": "127.0.0.1"})()})()  # type: ignore[attr-defined]
    call = Call(ProviderInfo("m1", "http://127.0.0.1:9/v1"), B, max_retries=3)
    did, _ = call.drive([refused, None])
    assert did == [(0, 0, "stream"), (1, 0, "stream")]


def test_interrupts_and_unclassified_plain_errors_propagate_at_once() -> None:
    call = Call(A, B)
    did, result = call.drive([Interrupted()])
    assert did == [(0, 0, "stream")] and isinstance(result, Interrupted)
    call = Call(A, B, streaming=False)
    bug = ValueError("a bug")
    did, result = call.drive([bug])
    assert did == [(0, 0, "plain")] and result is bug


def test_the_budget_bounds_the_whole_call() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"), max_retries=10, budget=5)
    did, result = call.drive([http(503)] * 10)
    assert sum(d for d in did if isinstance(d, float)) < 5
    assert isinstance(result, ProviderError)


def test_a_sends_stall_limits_are_capped_by_the_time_left() -> None:
    call = Call(ProviderInfo("m", "https://a/v1"), budget=5)
    plan = plan_call(call.setup())
    first = next(plan)
    assert isinstance(first, Send) and first.timeouts.total == 5


# ── the breaker ─────────────────────────────────────────────────────────


def test_a_dead_provider_rests_then_exactly_one_call_probes_it_and_success_brings_traffic_back() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, cooldown=30, max_retries=0)
    assert call.drive([http(503), None])[0] == [(0, 0, "stream"), (1, 0, "stream")]
    call.clock.now += 29
    assert call.drive([None])[0] == [(1, 0, "stream")], "no request wasted on the resting primary"
    call.clock.now += 2
    probe = plan_call(call.setup())
    assert next(probe).attempt.provider == 0  # this call holds the probe …
    other = plan_call(call.setup())
    assert next(other).attempt.provider == 1  # … so a concurrent call goes to the fallback
    with pytest.raises(StopIteration):
        probe.send(answer())
    assert call.drive([None])[0] == [(0, 0, "stream")], "the first success sends traffic back"


def test_each_failed_probe_doubles_the_rest_up_to_the_cap() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, cooldown=30, max_cooldown=100, max_retries=0)
    call.drive([http(503), None])
    for rest in (60, 100, 100):
        call.clock.now += 31 if rest == 60 else 101
        assert call.drive([http(503), None])[0][0] == (0, 0, "stream")  # probed, failed again
        call.clock.now += rest - 1
        assert call.drive([None])[0] == [(1, 0, "stream")]
        call.clock.now -= rest - 1


def test_a_probe_left_unsent_is_released() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, cooldown=30, max_retries=0)
    call.drive([http(503), None])
    call.clock.now += 31
    plan = plan_call(call.setup())
    next(plan)
    plan.close()  # e.g. the caller was cancelled before sending
    assert call.drive([None])[0] == [(0, 0, "stream")]


def test_a_resting_provider_is_the_last_resort_not_a_refusal() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, max_retries=0)
    call.drive([http(503), http(503)])
    assert call.chain.is_down(0) and call.chain.is_down(1)
    did, _ = call.drive([http(503), None])
    assert did == [(0, 0, "stream"), (1, 0, "stream")]


# ── accounting ──────────────────────────────────────────────────────────


def test_every_attempt_is_recorded_and_the_error_names_each_provider() -> None:
    call = Call(A, B, max_retries=0)
    did, error = call.drive([http(401, "bad key"), http(503, "overloaded"), http(500, "internal")])
    assert isinstance(error, ProviderError) and error.status == 500
    assert str(error).startswith("all 2 providers failed (m1 via a.example: key 1/2 401 bad key, key 2/2 503 overloaded; m2 via b.example: 500 internal)")
    assert [(r.provider, r.key, r.outcome, r.next) for r in call.records] == [
        ("m1 via a.example", 0, "auth", "retry"),
        ("m1 via a.example", 1, "server_error", "fallback"),
        ("m2 via b.example", 0, "server_error", "give_up"),
    ]
    assert all(r.error and r.error_type and r.duration_s >= 0 for r in call.records)


def test_the_answer_names_who_answered_and_what_the_provider_reported() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, max_retries=0)
    _, response = call.drive([http(503, "down"), None])
    assert response.extras["answered_by"] == {
        "model": "m2", "base_url": "https://b.example/v1", "reported_model": "reported-model",
        "skipped": [{"model": "m1", "base_url": "https://a/v1", "reason": "503 down"}],
    }
    assert [r.outcome for r in response.extras["attempts"]] == ["server_error", "ok"]


def test_a_failed_attempts_text_is_reset_only_when_the_replacement_delivers() -> None:
    call = Call(ProviderInfo("m1", "https://a/v1"), B, max_retries=0)
    plan = plan_call(call.setup())
    send = next(plan)
    send.sink.emit(type("T", (), {"kind": "text", "text": "void"})())
    second = plan.throw(http(503))
    assert call.resets == 0, "the void text stays until its replacement arrives"
    second.sink.emit(type("T", (), {"kind": "text", "text": "new"})())
    assert call.resets == 1


def test_failure_summary_is_short_and_drops_the_host() -> None:
    assert failure_summary(http(503, "The engine is overloaded")) == "503 The engine is overloaded"
    assert failure_summary(ProviderUnreachable("h.example: connection refused"), "h.example") == "connection refused"
    assert len(failure_summary(ProviderUnreachable("x" * 500))) == 100


def test_failover_policy_rejects_nonsense() -> None:
    with pytest.raises(ConfigError, match="cooldown"):
        FailoverPolicy(cooldown=-1)
    with pytest.raises(ConfigError, match="cooldown"):
        FailoverPolicy(cooldown="soon")  # type: ignore[arg-type]
    assert FailoverPolicy(cooldown=30, max_cooldown=100).rest_after(3) == 100


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
