"""Conduct under faults: what each fault costs, over real HTTP, with one test body for both agents.

Every scenario runs against `AIAgent` and `AsyncAIAgent` (the `run` fixture), on a primary and a
fallback fake provider, and asserts the requests each server saw and when: the planner's table
(herald/llm/planner.py) as the servers see it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Iterator

import pytest

from fakeprovider import FakeProvider, Reply
from herald import AIAgent, AsyncAIAgent

KEY = "herald-conduct-secret-5e1b"
LIMIT = 0.5

Run = Callable[..., dict[str, Any]]


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture(params=["AIAgent", "AsyncAIAgent"])
def run(request: pytest.FixtureRequest, tmp_path: Any) -> Run:
    """One turn on the agent under test: `run(primary, fallback=…, **options) -> the result dict`."""

    def one_turn(primary: FakeProvider, *, fallback: FakeProvider | None = None, question: str = "q", **options: Any) -> dict[str, Any]:
        settings: dict[str, Any] = dict(
            model="primary-model", base_url=primary.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True,
            skip_memory=True, cwd=tmp_path, persist_session=False, enabled_toolsets=[], max_retries=0,
            stream_delta_callback=lambda text: None,
        )
        if fallback is not None:
            settings["fallback"] = [{"model": "second-model", "base_url": fallback.base_url, "api_key": "second-key"}]
        settings.update(options)
        if request.param == "AIAgent":
            return AIAgent(**settings).run_conversation(question)
        return asyncio.run(AsyncAIAgent(**settings).run_conversation(question))

    return one_turn


def posts(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


def test_a_provider_that_never_answers_is_left_after_one_limit(fake: FakeProvider, second: FakeProvider, run: Run) -> None:
    fake.default = Reply(fault="hang", stall_seconds=30)
    second.default = Reply(text="the fallback answers")
    result = run(fake, fallback=second, stream_first_byte_timeout=LIMIT)
    assert result["final_response"] == "the fallback answers"
    assert len(posts(fake)) == 1, "no plain request and no retry to a silent provider"
    assert posts(second)[0].time - posts(fake)[0].time < LIMIT + 1
    assert [(a["outcome"], a["next"]) for a in result["attempts"]] == [("stalled", "fallback"), ("ok", None)]


def test_a_stream_that_stalls_mid_answer_fails_over_after_the_idle_limit(fake: FakeProvider, second: FakeProvider, run: Run) -> None:
    fake.default = Reply(text="twenty tokens and then nothing " * 3, chunk_chars=3, fault="stall", fault_after=20, stall_seconds=30)
    second.default = Reply(text="the fallback answers")
    result = run(fake, fallback=second, stream_idle_timeout=LIMIT)
    assert result["final_response"] == "the fallback answers"
    assert len(posts(fake)) == 1
    assert posts(second)[0].time - posts(fake)[0].time < LIMIT + 2


def test_without_a_fallback_silence_gets_exactly_one_more_attempt(fake: FakeProvider, run: Run) -> None:
    fake.default = Reply(fault="hang", stall_seconds=30)
    result = run(fake, stream_first_byte_timeout=LIMIT, request_timeout=LIMIT, max_retries=3)
    assert result["failed"] and result["error_type"] == "ProviderUnreachable"
    assert [r.stream for r in posts(fake)] == [True, False]


def test_a_429_with_retry_after_is_never_followed_by_a_request_before_it_passes(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=1))
    fake.default = Reply(text="after the wait")
    result = run(fake, max_retries=2)
    assert result["final_response"] == "after the wait"
    first, second_request = posts(fake)
    assert second_request.time - first.time >= 1.0, "the plain request no longer follows a 429 at once"
    assert [r.stream for r in posts(fake)] == [True, True]


def test_a_429_goes_to_a_ready_fallback_rather_than_waiting(fake: FakeProvider, second: FakeProvider, run: Run) -> None:
    fake.default = Reply(fault="http_error", status=429, retry_after=30)
    second.default = Reply(text="the fallback answers")
    result = run(fake, fallback=second, max_retries=3)
    assert result["final_response"] == "the fallback answers"
    assert len(posts(fake)) == 1 and posts(second)[0].time - posts(fake)[0].time < 1


def test_a_persistent_429_without_retry_after_backs_off_then_gives_up(fake: FakeProvider, run: Run) -> None:
    fake.default = Reply(fault="http_error", status=429)
    result = run(fake, max_retries=2)
    assert result["failed"] and result["error_type"] == "RateLimitError"
    times = [r.time for r in posts(fake)]
    assert len(times) == 3 and all(b - a >= 0.75 for a, b in zip(times, times[1:])), "jittered backoff, at least 0.8 s"


def test_a_context_length_400_is_never_resent_unchanged(fake: FakeProvider, second: FakeProvider, run: Run) -> None:
    fake.default = Reply(fault="http_error", status=400, error_message="This model's maximum context length is 10 tokens. However, your messages resulted in 9000 tokens.")
    second.default = Reply(text="a model with a larger window answers")
    result = run(fake, fallback=second, question="a long question " * 10)
    assert result["final_response"] == "a model with a larger window answers"
    bodies = [repr(r.body) for r in posts(fake)]
    assert len(bodies) == len(set(bodies)), "the same request body was sent twice"
    assert all(r.stream for r in posts(fake)), "never resent as a plain request"


def test_a_content_policy_refusal_propagates_and_is_not_routed_around(fake: FakeProvider, second: FakeProvider, run: Run) -> None:
    fake.default = Reply(fault="http_error", status=400, error_message="Your request was rejected as a result of our safety system.")
    second.default = Reply(text="should never be asked")
    result = run(fake, fallback=second)
    assert result["failed"] and "safety system" in result["error"]
    assert len(posts(fake)) == 1 and posts(second) == []
    result = run(fake, fallback=second, failover_on_content_policy=True)
    assert result["final_response"] == "should never be asked"


def test_a_recovered_primary_is_probed_after_the_cooldown_and_takes_traffic_back(fake: FakeProvider, second: FakeProvider, tmp_path: Any) -> None:
    fake.default = Reply(fault="http_error", status=503)
    second.default = Reply(text="from the fallback")
    agent = AIAgent(
        model="primary-model", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True,
        skip_memory=True, cwd=tmp_path, persist_session=False, enabled_toolsets=[], max_retries=0, failover_cooldown=0.5,
        fallback=[{"model": "second-model", "base_url": second.base_url, "api_key": "second-key"}],
    )
    assert agent.run_conversation("1")["final_response"] == "from the fallback"
    assert agent.run_conversation("2")["final_response"] == "from the fallback"
    assert len(posts(fake)) == 1, "resting: no request to the primary within its cooldown"
    fake.default = Reply(text="the primary is back")
    time.sleep(0.6)
    assert agent.run_conversation("3")["final_response"] == "the primary is back"
    assert agent.run_conversation("4")["final_response"] == "the primary is back"
    assert len(posts(fake)) == 3


def test_a_slow_first_token_fails_over_when_a_first_token_limit_is_set(fake: FakeProvider, second: FakeProvider, run: Run) -> None:
    fake.default = Reply(text="late", fault="stall", fault_after=0, stall_seconds=30)
    second.default = Reply(text="the fallback answers")
    result = run(fake, fallback=second, stream_first_token_timeout=LIMIT)
    assert result["final_response"] == "the fallback answers"
    assert result["attempts"][0]["error"].startswith("stream stalled: no first token")
