"""Conduct under faults: what each fault costs, over real HTTP, one test body for both agents.

Every scenario runs against `AIAgent` and `AsyncAIAgent` (the suite's `harness`) on each of the
three wires, on a primary and a fallback fake provider, and asserts the requests each server saw
and when: the planner's table (herald/llm/planner.py) as the servers see it.
"""

from __future__ import annotations

from typing import Any

import pytest

from agents_under_test import WIRES, Harness, url
from fakeprovider import FakeProvider, Reply

LIMIT = 1.0


def run(harness: Harness, mode: str, primary: FakeProvider, *, fallback: FakeProvider | None = None, question: str = "q", **options: Any) -> dict[str, Any]:
    """One turn on the agent and wire under test, streamed, with `fallback` as the second provider."""
    if fallback is not None:
        options["fallback"] = [{"model": "second-model", "base_url": url(fallback, mode), "api_key": "second-key", "api_mode": mode}]
    return harness.make(primary, mode, model="primary-model", **options).run(question)


def posts(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize("mode", WIRES)
def test_a_provider_that_never_answers_is_left_after_one_limit(harness: Harness, mode: str, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="hang", stall_seconds=30)
    second.default = Reply(text="the fallback answers")
    result = run(harness, mode, fake, fallback=second, stream_first_byte_timeout=LIMIT)
    assert result["final_response"] == "the fallback answers"
    assert len(posts(fake)) == 1, "no plain request and no retry to a silent provider"
    assert posts(second)[0].time - posts(fake)[0].time < LIMIT + 1
    assert [(a["outcome"], a["next"]) for a in result["attempts"]] == [("stalled", "fallback"), ("ok", None)]


@pytest.mark.parametrize("mode", WIRES)
def test_a_stream_that_stalls_mid_answer_fails_over_after_the_idle_limit(harness: Harness, mode: str, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(text="twenty tokens and then nothing " * 3, chunk_chars=3, fault="stall", fault_after=20, stall_seconds=30)
    second.default = Reply(text="the fallback answers")
    result = run(harness, mode, fake, fallback=second, stream_idle_timeout=LIMIT)
    assert result["final_response"] == "the fallback answers"
    assert len(posts(fake)) == 1
    assert posts(second)[0].time - posts(fake)[0].time < LIMIT + 2


@pytest.mark.parametrize("mode", WIRES)
def test_without_a_fallback_silence_gets_exactly_one_more_attempt(harness: Harness, mode: str, fake: FakeProvider) -> None:
    fake.default = Reply(fault="hang", stall_seconds=30)
    result = run(harness, mode, fake, stream_first_byte_timeout=LIMIT, request_timeout=LIMIT, max_retries=3)
    assert result["failed"] and result["error_type"] == "ProviderUnreachable"
    assert len(posts(fake)) == 2  # (the Responses wire's plain request is a buffered stream)
    assert [(a["mode"], a["next"]) for a in result["attempts"]] == [("stream", "plain"), ("plain", "give_up")]


@pytest.mark.parametrize("mode", WIRES)
def test_a_429_with_retry_after_is_never_followed_by_a_request_before_it_passes(harness: Harness, mode: str, fake: FakeProvider) -> None:
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=1))
    fake.default = Reply(text="after the wait")
    result = run(harness, mode, fake, max_retries=2)
    assert result["final_response"] == "after the wait"
    first, second_request = posts(fake)
    assert second_request.time - first.time >= 1.0, "the plain request no longer follows a 429 at once"
    assert [a["mode"] for a in result["attempts"]] == ["stream", "stream"]


@pytest.mark.parametrize("mode", WIRES)
def test_a_429_goes_to_a_ready_fallback_rather_than_waiting(harness: Harness, mode: str, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=429, retry_after=30)
    second.default = Reply(text="the fallback answers")
    result = run(harness, mode, fake, fallback=second, max_retries=3)
    assert result["final_response"] == "the fallback answers"
    assert len(posts(fake)) == 1 and posts(second)[0].time - posts(fake)[0].time < 1


@pytest.mark.parametrize("mode", WIRES)
def test_a_persistent_429_without_retry_after_backs_off_then_gives_up(harness: Harness, mode: str, fake: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=429)
    result = run(harness, mode, fake, max_retries=2)
    assert result["failed"] and result["error_type"] == "RateLimitError"
    times = [r.time for r in posts(fake)]
    assert len(times) == 3 and all(b - a >= 0.75 for a, b in zip(times, times[1:])), "jittered backoff, at least 0.8 s"


@pytest.mark.parametrize("mode", WIRES)
def test_a_context_length_400_is_never_resent_unchanged(harness: Harness, mode: str, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=400, error_message="This model's maximum context length is 10 tokens. However, your messages resulted in 9000 tokens.")
    second.default = Reply(text="a model with a larger window answers")
    result = run(harness, mode, fake, fallback=second, question="a long question " * 10)
    assert result["final_response"] == "a model with a larger window answers"
    bodies = [repr(r.body) for r in posts(fake)]
    assert len(bodies) == len(set(bodies)), "the same request body was sent twice"
    assert all(a["mode"] == "stream" for a in result["attempts"]), "never resent as a plain request"


@pytest.mark.parametrize("mode", WIRES)
def test_a_content_policy_refusal_propagates_and_is_not_routed_around(harness: Harness, mode: str, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=400, error_message="Your request was rejected as a result of our safety system.")
    second.default = Reply(text="should never be asked")
    result = run(harness, mode, fake, fallback=second)
    assert result["failed"] and "safety system" in result["error"]
    assert len(posts(fake)) == 1 and posts(second) == []
    result = run(harness, mode, fake, fallback=second, failover_on_content_policy=True)
    assert result["final_response"] == "should never be asked"


@pytest.mark.parametrize("mode", WIRES)
def test_a_slow_first_token_fails_over_when_a_first_token_limit_is_set(harness: Harness, mode: str, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(text="late", fault="stall", fault_after=0, stall_seconds=30)
    second.default = Reply(text="the fallback answers")
    result = run(harness, mode, fake, fallback=second, stream_first_token_timeout=LIMIT)
    assert result["final_response"] == "the fallback answers"
    assert result["attempts"][0]["error"].startswith("stream stalled: no first token")
