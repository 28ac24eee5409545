"""Failover and key pools, one body for both agents: fallback providers, recovery, key rotation.

Replaces the per-agent copies that were in tests/llm/test_failover_http.py (sync only) and
tests/agent/test_async_failover_context.py (async, compared against sync).
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest

from agents_under_test import KEY, WIRES, Clock, Harness, keys_sent, posts, streamed, url
from fakeprovider import FakeProvider, Reply

SPARE_KEY = "primary-secret-bravo-0002"
SECOND_KEY = "second-secret-charlie-0003"
THIRD_KEY = "third-secret-delta-0004"
ALL_KEYS = (KEY, SPARE_KEY, SECOND_KEY, THIRD_KEY)


def fallback(provider: FakeProvider, mode: str = "chat_completions", model: str = "second/model", key: str = SECOND_KEY) -> dict[str, Any]:
    return {"model": model, "base_url": url(provider, mode), "api_key": key, "api_mode": mode}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ── providers ──────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_a_dead_primary_fails_over_and_the_result_says_who_answered(harness: Harness, fake: FakeProvider, second: FakeProvider, mode: str) -> None:
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(text="the second provider answers")
    subject = harness.make(fake, mode, fallback=[fallback(second, mode)])
    result = subject.run("hello")
    assert result["completed"] and result["final_response"] == "the second provider answers" == subject.screen.shown
    assert posts(fake) == 1, "a 503 (no retries configured) fails over at once: no plain request to the same provider"
    assert result["answered_by"] == {
        "model": "second/model",
        "base_url": url(second, mode),
        "reported_model": "second/model",
        "skipped": [{"model": "test/model", "base_url": url(fake, mode), "reason": "503 upstream error"}],
    }
    assert json.dumps(second.requests[-1].body).count("second/model") == 1  # its own model in its own request
    assert keys_sent(second) == [SECOND_KEY]


def test_a_primary_down_is_skipped_for_the_cooldown_then_probed_and_recovered(harness: Harness, fake: FakeProvider, second: FakeProvider) -> None:
    clock = Clock()
    subject = harness.make(fake, fallback=[fallback(second)], failover_cooldown=90)
    subject.use_clock(clock)
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(text="the fallback answers")
    assert subject.run("hello")["final_response"] == "the fallback answers"
    assert posts(fake) == 1
    assert second.requests[0].body["messages"][-1] == {"role": "user", "content": "hello"}

    clock.now += 89  # within the cooldown: the dead primary costs no request at all
    for _ in range(3):
        assert subject.run("again")["final_response"] == "the fallback answers"
    assert posts(fake) == 1

    fake.default = Reply(text="the primary is back")
    clock.now += 2  # cooldown over: probed once, and it answers
    back = subject.run("and now?")
    assert back["final_response"] == "the primary is back" == subject.screen.shown
    assert back["answered_by"] == {"model": "test/model", "base_url": fake.base_url, "reported_model": "test/model", "skipped": []}
    assert posts(fake) == 2
    assert subject.run("still?")["final_response"] == "the primary is back"
    assert posts(fake) == 3 and posts(second) == 4


@pytest.mark.parametrize("mode", WIRES)
def test_text_of_a_provider_that_failed_mid_stream_is_reset_before_the_next_answers(
    harness: Harness, fake: FakeProvider, second: FakeProvider, mode: str
) -> None:
    # The primary streams some words and is cut, then its plain request fails too: the fallback answers.
    fake.enqueue(Reply(text="A primary answer that never finishes", chunk_chars=5, fault="cut", fault_after=3))
    fake.default = Reply(fault="http_error", status=502)
    second.default = Reply(text="The complete replacement.", chunk_chars=4)
    subject = harness.make(fake, mode, continuation="off", fallback=[fallback(second, mode)])
    result = subject.run("q")
    assert result["completed"], result["error"]
    assert subject.screen.resets == 1
    shown = subject.screen.before_reset[0]
    assert shown and "A primary answer that never finishes".startswith(shown), "the primary's text had been shown"
    assert subject.screen.shown == "The complete replacement." == result["final_response"]
    assert subject.screen.chunks > 2, "the replacement streamed"
    assert result["answered_by"]["model"] == "second/model"


def test_a_stream_fault_the_primarys_plain_request_fixes_never_fails_over(harness: Harness, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(text="whole answer", chunk_chars=3, fault="cut", fault_after=2)  # every stream cut; plain works
    subject = harness.make(fake, continuation="off", fallback=[fallback(second)])
    result = subject.run("q")
    assert result["final_response"] == "whole answer" == subject.screen.shown
    assert result["answered_by"]["skipped"] == [] and posts(second) == 0
    assert streamed(fake) == [True, False]


def test_without_stream_consumers_plain_requests_fail_over_too(harness: Harness, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=500)
    second.default = Reply(text="plain fallback")
    result = harness.make(fake, streaming=False, fallback=[fallback(second)]).run("q")
    assert result["final_response"] == "plain fallback"
    assert streamed(fake) + streamed(second) == [False, False]


def test_failover_to_another_wire_rebuilds_the_request_from_the_history(harness: Harness, fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=503)
    second.default = Reply(text="from the Messages wire")
    subject = harness.make(fake, fallback=[fallback(second, "anthropic_messages", model="claude-x")])
    result = subject.run("hi there", system="be brief")
    assert result["final_response"] == "from the Messages wire" == subject.screen.shown
    sent = second.requests[0]
    assert sent.path.endswith("/v1/messages") and keys_sent(second) == [SECOND_KEY]
    assert sent.body["model"] == "claude-x"
    assert sent.body["messages"][-1]["content"] in ("hi there", [{"type": "text", "text": "hi there"}])


def test_a_request_too_long_goes_only_to_a_different_model(
    harness: Harness, fake: FakeProvider, second: FakeProvider, third: FakeProvider
) -> None:
    fake.default = Reply(fault="http_error", status=400, error_message="This model's maximum context length is 8192 tokens")
    same_model = fallback(second, model="test/model")
    third.default = Reply(text="a longer context")
    subject = harness.make(fake, fallback=[same_model, fallback(third, model="bigger/model", key=THIRD_KEY)])
    assert subject.run("a very long question")["final_response"] == "a longer context"
    assert posts(second) == 0, "the same model would reject the same request"

    lone = harness.make(fake, fallback=[same_model])
    failed = lone.run("a very long question")
    assert failed["failed"] and failed["error_type"] == "ProviderError"
    assert "maximum context length" in failed["error"] and "providers failed" not in failed["error"]
    assert posts(second) == 0


def test_three_providers_the_third_answers_and_the_result_says_why_not_the_others(
    harness: Harness, fake: FakeProvider, second: FakeProvider, third: FakeProvider
) -> None:
    fake.api_key = "a-key-nobody-has-000"  # both keys of the primary are refused
    second.enqueue(Reply(text="half an answer from the second", chunk_chars=4, fault="cut", fault_after=2),
                   Reply(fault="http_error", status=500, error_message="internal"))  # fmt: skip
    third.default = Reply(text="the third answers")
    subject = harness.make(fake, continuation="off", api_key=None, api_keys=[KEY, SPARE_KEY],
                           fallback=[fallback(second), fallback(third, model="third/model", key=THIRD_KEY)])  # fmt: skip
    result = subject.run("q")
    assert result["final_response"] == "the third answers" == subject.screen.shown
    assert subject.screen.resets == 1, "the second's streamed text was void"
    skipped = result["answered_by"]["skipped"]
    assert [s["model"] for s in skipped] == ["test/model", "second/model"]
    assert skipped[0]["reason"].startswith("401") and skipped[1]["reason"] == "500 internal"
    assert keys_sent(fake) == [KEY, SPARE_KEY]
    assert streamed(second) == [True, False], "the cut stream, then its one plain request"
    assert keys_sent(third) == [THIRD_KEY]
    again = subject.run("again")  # the primary has no key left; the second rests
    assert again["final_response"] == "the third answers"
    assert posts(fake) == 2 and posts(second) == 2


def test_all_providers_down_the_error_names_each_one_and_no_key_is_anywhere(
    harness: Harness, fake: FakeProvider, second: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(fault="echo_key")  # a 401 whose body repeats the key it was sent
    entries = [fallback(second), {"model": "third/model", "base_url": dead, "api_key": THIRD_KEY}]
    subject = harness.make(fake, fallback=entries, api_key=None, api_keys=[KEY, SPARE_KEY])
    result = subject.run("is anyone there?")
    assert result["failed"] and not result["completed"] and result["answered_by"] is None
    assert result["error_type"] == "ProviderUnreachable", "the last provider's error"
    error = result["error"]
    assert error.startswith("all 3 providers failed (")
    assert f"test/model via 127.0.0.1:{fake.port}: key 1/2 503 upstream error;" in error
    assert f"second/model via 127.0.0.1:{second.port}: 401" in error
    assert f"third/model via {dead.split('/')[2]}: unreachable" in error
    assert posts(fake) == 1 and posts(second) == 1, "a 503 says nothing about keys: no rotation"

    again = subject.run("and now?")  # all resting or refused: the resting ones are still tried
    assert again["failed"]
    assert posts(second) == 1, "the refused key of the second provider is never sent again"

    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    saved = repr(subject.stored())
    subject.store.close()
    dump = b"".join(f.read_bytes() for f in subject.store.path.parent.glob(subject.store.path.name + "*")).decode("utf-8", "replace")
    for key in ALL_KEYS:
        for place, text in (("error", error + again["error"]), ("logs", logged), ("session", saved + dump), ("result", repr(result))):
            assert key not in text, f"{key} in {place}"
    assert "second/model" in caplog.text and "failed" in caplog.text


def test_answered_by_is_recorded_per_assistant_message_in_the_session(harness: Harness, fake: FakeProvider, second: FakeProvider) -> None:
    clock = Clock()
    subject = harness.make(fake, fallback=[fallback(second)])
    subject.use_clock(clock)
    fake.enqueue(Reply(fault="http_error", status=503))
    second.default = Reply(text="fallback")
    subject.run("first")
    first = subject.stored()[-1]
    assert first["role"] == "assistant" and first["answered_by"]["model"] == "second/model"
    assert first["answered_by"]["skipped"][0]["reason"].startswith("503")
    clock.now += 1000
    fake.default = Reply(text="primary")
    subject.run("second", history=subject.stored())
    assert subject.stored()[-1]["answered_by"]["model"] == "test/model"
    # Herald's own key: never sent back to a provider.
    assert all("answered_by" not in m for m in fake.requests[-1].body["messages"])


def test_without_fallbacks_the_result_still_says_who_answered(harness: Harness, fake: FakeProvider) -> None:
    fake.default = Reply(text="ok")
    result = harness.make(fake).run("q")
    assert result["answered_by"] == {"model": "test/model", "base_url": fake.base_url, "reported_model": "test/model", "skipped": []}
    assert posts(fake) == 1


def test_a_silent_primary_fails_over_after_one_limit_without_a_plain_request(harness: Harness, second: FakeProvider) -> None:
    with socket.socket() as silent:  # accepts connections and never answers a byte
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        second.default = Reply(text="the fallback answers")
        subject = harness.make(second, base_url=f"http://127.0.0.1:{silent.getsockname()[1]}/v1",
                               stream_first_byte_timeout=0.5, request_timeout=0.5, fallback=[fallback(second)])  # fmt: skip
        result = subject.run("q")
    assert result["final_response"] == "the fallback answers" == subject.screen.shown
    assert result["answered_by"]["skipped"][0]["reason"] == "stream stalled: no first byte progress within 0.5s"
    assert [(a["mode"], a["outcome"], a["next"]) for a in result["attempts"]] == [
        ("stream", "stalled", "fallback"),  # silence is taken as down: no plain request, no retry
        ("stream", "ok", None),
    ]


# ── key pools ──────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_a_refused_key_is_skipped_for_the_agents_life(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.api_key = SPARE_KEY  # the first key of the pool was revoked
    fake.default = Reply(text="ok")
    subject = harness.make(fake, mode, api_key=None, api_keys=[KEY, SPARE_KEY])
    result = subject.run("one")
    assert result["final_response"] == "ok" and result["answered_by"]["skipped"] == []  # the primary answered, with its pool
    assert keys_sent(fake) == [KEY, SPARE_KEY]  # a 401 moves to the next key at once, no plain request
    for _ in range(3):
        assert subject.run("more")["final_response"] == "ok"
    assert keys_sent(fake)[2:] == [SPARE_KEY] * 3


def test_herald_api_keys_from_the_environment(harness: Harness, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_API_KEYS", f" {KEY} , {SPARE_KEY} ")
    fake.api_key = SPARE_KEY
    fake.default = Reply(text="ok")
    assert harness.make(fake, api_key=None).run("q")["final_response"] == "ok"
    assert keys_sent(fake) == [KEY, SPARE_KEY]


@pytest.mark.parametrize("mode", WIRES)
def test_a_429_rotates_to_the_next_key_before_waiting(harness: Harness, fake: FakeProvider, mode: str) -> None:
    # Three retries, each waiting 30 s if Herald waited: the turn would outlast the test's patience.
    subject = harness.make(fake, mode, api_key=None, api_keys=[KEY, SPARE_KEY], max_retries=3)
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=30), Reply(text="rotated", chunk_chars=3))
    result = subject.run("q")
    assert result["final_response"] == "rotated" == subject.screen.shown
    assert keys_sent(fake) == [KEY, SPARE_KEY], "nothing more to the rate-limited key, not even a plain request"
    rotated = result["attempts"][0]
    assert rotated["key"] == 0 and rotated["outcome"] == "rate_limited" and not rotated["delay_s"], "it waited before rotating"
    fake.default = Reply(text="again")
    subject.run("q2")
    assert keys_sent(fake)[-1] == SPARE_KEY, "the key that worked is tried first"


def test_a_quota_error_cools_the_key_down(harness: Harness, fake: FakeProvider, second: FakeProvider) -> None:
    clock = Clock()
    subject = harness.make(fake, api_key=None, api_keys=[KEY, SPARE_KEY], fallback=[fallback(second)])
    subject.use_clock(clock)
    second.default = Reply(text="from the fallback")
    fake.enqueue(Reply(fault="http_error", status=402, error_message="Insufficient credits"))
    fake.default = Reply(text="spare key answers")
    assert subject.run("one")["final_response"] == "spare key answers"
    assert keys_sent(fake) == [KEY, SPARE_KEY]

    # A minute later the spare key is rate limited; the first is still out of quota: not tried.
    clock.now += 100
    fake.enqueue(Reply(fault="http_error", status=429))
    assert subject.run("two")["final_response"] == "from the fallback"
    assert keys_sent(fake)[2:] == [SPARE_KEY]

    clock.now += 3600  # the quota cooldown is over: the first key is usable again
    fake.api_key = KEY
    assert subject.run("three")["final_response"] == "spare key answers"
    assert KEY in keys_sent(fake)[3:]
