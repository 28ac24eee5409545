"""Stream faults, one body for both agents, on every wire: what a user sees is the whole answer once.

Replaces the per-agent copies that were in tests/llm/test_every_wire.py, test_streaming_over_http.py
and tests/agent/test_async_agent.py (see the suite's conftest for how each agent is driven).
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest

from agents_under_test import KEY, WIRES, Harness, streamed
from fakeprovider import FakeProvider, Reply

ANSWER = "Streams are additive: the whole answer arrives exactly once. " * 2
REASONING = "Let me think about streams for a moment."
SILENT = ["cut", "reset", "malformed", "inband_error", "no_finish", "html"]


def outcomes(result: dict) -> list[tuple[str, str]]:
    return [(a["mode"], a["outcome"]) for a in result["attempts"]]


def replacement(mode: str) -> bool:
    """What replaces a failed stream: a plain request (chat, Anthropic) or a buffered stream (Responses)."""
    return mode == "codex_responses"


# ── silent failures: reset, then the whole answer once ────────────────


@pytest.mark.parametrize("mode", WIRES)
@pytest.mark.parametrize("fault", SILENT)
def test_a_silent_stream_failure_is_replaced_by_the_whole_answer_once(harness: Harness, fake: FakeProvider, mode: str, fault: str) -> None:
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=3), Reply(text=ANSWER))
    subject = harness.make(fake, mode, continuation="off")
    result = subject.run("hi")
    assert result["completed"] and result["final_response"] == ANSWER, result["error"]
    assert subject.screen.shown == ANSWER, "the screen ends with the whole answer, once"
    assert subject.screen.resets <= 1 and result["fallback_reason"]
    assert streamed(fake) == [True, replacement(mode)]
    assert outcomes(result)[-1] == ("plain", "ok")
    # A transient failure does not switch streaming off.
    fake.enqueue(Reply(text="again"))
    assert subject.run("again")["final_response"] == "again" and streamed(fake)[-1] is True


@pytest.mark.parametrize("mode", WIRES)
def test_text_shown_before_a_cut_is_reset_and_the_replacement_follows_in_one_delta(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text=ANSWER, reasoning=REASONING, chunk_chars=5, fault="cut", fault_after=11), Reply(text=ANSWER, reasoning=REASONING))
    subject = harness.make(fake, mode, continuation="off")
    result = subject.run("hi")
    assert subject.screen.resets == 1
    shown = subject.screen.before_reset[0]
    assert shown and ANSWER.startswith(shown), "the cut stream's text had been shown"
    assert subject.screen.text == [ANSWER], "the replacement's text arrives as one delta after the reset"
    assert "".join(subject.screen.reasoning) == REASONING, "reasoning shown before the reset is not shown twice"
    assert result["messages"][-1]["reasoning"] == REASONING


def test_finish_reason_error_mid_stream_is_a_failed_stream_on_the_chat_wire(harness: Harness, fake: FakeProvider) -> None:
    fake.enqueue(Reply(text=ANSWER, fault="error_finish", fault_after=3), Reply(text=ANSWER))
    subject = harness.make(fake, continuation="off")
    result = subject.run("hi")
    assert result["final_response"] == ANSWER == subject.screen.shown and subject.screen.resets == 1
    assert "finish_reason 'error'" in result["fallback_reason"]
    assert streamed(fake) == [True, False]


@pytest.mark.parametrize("mode", WIRES)
def test_a_json_body_with_status_200_is_a_failed_stream(harness: Harness, fake: FakeProvider, mode: str) -> None:
    # A server that ignores `stream: true` and answers JSON: failed at once, not read as SSE.
    fake.enqueue(Reply(text=ANSWER, fault="trickle", delay=0.001), Reply(text=ANSWER))
    result = harness.make(fake, mode).run("hi")
    assert result["final_response"] == ANSWER
    assert "other than an event stream" in result["fallback_reason"] and "application/json" in result["fallback_reason"]


# ── stalls ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
@pytest.mark.parametrize(
    "fault, limit",
    [("stall_first_byte", "stream_first_byte_timeout"), ("stall", "stream_idle_timeout"), ("keepalive_stall", "stream_idle_timeout")],
)
def test_a_stall_is_replaced_after_its_limit(harness: Harness, fake: FakeProvider, mode: str, fault: str, limit: str) -> None:
    # The stall outlasts any test: only the limit can end it (a stream waited out would fail the test
    # below, its answer streamed and no fallback reason).
    fake.enqueue(Reply(text=ANSWER, fault=fault, fault_after=2, stall_seconds=60), Reply(text=ANSWER))
    subject = harness.make(fake, mode, continuation="off", **{limit: 0.3})
    result = subject.run("hi")
    assert result["final_response"] == ANSWER == subject.screen.shown
    assert "stalled" in result["fallback_reason"]
    assert outcomes(result) == [("stream", "stalled"), ("plain", "ok")]


@pytest.mark.parametrize("mode", WIRES)
def test_no_late_delta_of_a_stalled_stream_follows_its_replacement(harness: Harness, fake: FakeProvider, mode: str) -> None:
    # The stalled stream would resume after 0.8 s; by then its replacement was delivered.
    fake.enqueue(Reply(text=ANSWER, fault="stall", fault_after=2, stall_seconds=0.8), Reply(text=ANSWER))
    subject = harness.make(fake, mode, continuation="off", stream_idle_timeout=0.3)
    result = subject.run("hi")
    assert "stalled" in result["fallback_reason"]
    deliveries = subject.screen.deliveries
    time.sleep(1.2)  # past the moment the abandoned stream would have resumed
    assert subject.screen.deliveries == deliveries, "a delta from the abandoned stream reached the display"
    assert subject.screen.shown == ANSWER and subject.screen.resets == 1


@pytest.mark.parametrize("mode", WIRES)
def test_a_stream_is_held_to_its_own_limits_not_to_the_plain_request_timeout(harness: Harness, fake: FakeProvider, mode: str) -> None:
    # Pauses of 0.4 s between chunks: longer than the plain request's bound, well inside the stream's
    # idle limit. The stream is what its limits allow; the HTTP library's own timeout only backs them up.
    fake.enqueue(Reply(text="slow but healthy", chunk_chars=8, delay=0.4))
    result = harness.make(fake, mode, continuation="off", request_timeout=0.2, stream_idle_timeout=5, stream_first_byte_timeout=5).run("hi")
    assert result["final_response"] == "slow but healthy" and not result["fallback_reason"]
    assert outcomes(result) == [("stream", "ok")] and streamed(fake) == [True]


@pytest.mark.parametrize("mode", WIRES)
def test_an_attempt_records_when_its_first_chunk_arrived(harness: Harness, fake: FakeProvider, mode: str) -> None:
    # The provider is silent for 0.3 s before its first byte, then answers.
    fake.enqueue(Reply(text="late but whole", fault="stall_first_byte", stall_seconds=0.3))
    result = harness.make(fake, mode, continuation="off").run("hi")
    assert result["final_response"] == "late but whole"
    (attempt,) = result["attempts"]
    assert 0.25 <= attempt["first_chunk_s"] <= attempt["duration_s"]


def test_total_time_limit_replaces_a_stream_that_is_too_slow(harness: Harness, fake: FakeProvider) -> None:
    fake.enqueue(Reply(text=ANSWER, chunk_chars=2, delay=0.05, repeat=2))
    result = harness.make(fake, continuation="off", stream_total_timeout=0.3).run("hi")
    assert result["final_response"] == ANSWER and result["fallback_reason"]


@pytest.mark.parametrize("mode", WIRES)
def test_a_replacement_that_itself_hangs_is_bounded(harness: Harness, fake: FakeProvider, mode: str) -> None:
    # The replacement trickles a byte every 0.1 s: no read times out, the answer never ends.
    fake.enqueue(Reply(text=ANSWER, fault="cut", fault_after=2), Reply(text=ANSWER * 20, fault="trickle", delay=0.1))
    result = harness.make(fake, mode, continuation="off", request_timeout=1.0).run("hi")
    assert result["failed"] and result["error_type"] == "ProviderUnreachable" and "timed out" in result["error"]


# ── errors the provider answers ────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
@pytest.mark.parametrize("status", [429, 500, 503, 529])
def test_a_5xx_or_429_is_retried_as_a_stream_never_as_plain(harness: Harness, fake: FakeProvider, mode: str, status: int) -> None:
    fake.enqueue(Reply(fault="http_error", status=status, retry_after=0), Reply(text="retried"), Reply(text="streamed again"))
    subject = harness.make(fake, mode, max_retries=1)
    result = subject.run("hi")
    assert result["final_response"] == "retried" == subject.screen.shown
    assert [a["mode"] for a in result["attempts"]] == ["stream", "stream"] and result["attempts"][-1]["outcome"] == "ok"
    assert subject.run("again")["final_response"] == "streamed again"
    assert streamed(fake) == [True, True, True], "a 5xx or 429 is no reason to give up streaming"


@pytest.mark.parametrize("mode", WIRES)
def test_a_429_waits_its_retry_after_before_the_next_request(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=0.3, repeat=2), Reply(text="finally"))
    result = harness.make(fake, mode, max_retries=2).run("hi")
    assert result["final_response"] == "finally"
    assert streamed(fake) == [True, True, True]
    assert [(a["outcome"], a["next"], a["delay_s"]) for a in result["attempts"]] == [
        ("rate_limited", "retry", 0.3), ("rate_limited", "retry", 0.3), ("ok", None, None)
    ]
    gaps = [b.time - a.time for a, b in zip(fake.requests, fake.requests[1:])]
    assert all(gap >= 0.3 for gap in gaps), f"sent before Retry-After passed: {gaps}"


@pytest.mark.parametrize("mode", WIRES)
def test_a_429_without_retry_after_is_retried_after_a_backoff(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(fault="http_error", status=429), Reply(text="after a backoff"))
    result = harness.make(fake, mode, max_retries=1).run("hi")
    assert result["final_response"] == "after a backoff"
    assert len(fake.requests) == 2 and streamed(fake) == [True, True]
    first, answered = result["attempts"]
    assert (first["outcome"], first["next"], answered["outcome"]) == ("rate_limited", "retry", "ok")
    assert first["delay_s"] is not None and first["delay_s"] > 0, "no backoff before the retry"


def test_a_retry_after_above_the_cap_is_capped(harness: Harness, fake: FakeProvider) -> None:
    from herald.llm.planner import CallPolicy

    fake.enqueue(Reply(fault="http_error", status=429, retry_after=3600), Reply(text="finally"))
    subject = harness.make(fake, max_retries=1)
    subject.client.policy = CallPolicy(max_retries=1, max_delay=0.2)
    result = subject.run("hi")
    assert result["final_response"] == "finally"
    (waited,) = [a for a in result["attempts"] if a["next"] == "retry"]
    assert 0 < waited["delay_s"] <= 0.2, "a one-hour Retry-After was not capped"


@pytest.mark.parametrize("mode", ["chat_completions", "anthropic_messages"])
def test_a_400_naming_its_cause_is_sent_once_and_one_naming_streaming_switches_it_off(
    harness: Harness, fake: FakeProvider, mode: str
) -> None:
    fake.enqueue(Reply(fault="http_error", status=400, error_message="Invalid value for 'temperature': must be at most 2."))
    subject = harness.make(fake, mode)
    result = subject.run("hi")
    assert result["failed"] and result["error_type"] == "ProviderError" and "temperature" in result["error"]
    assert streamed(fake) == [True], "never resent unchanged, not even as a plain request"
    fake.enqueue(Reply(fault="reject_stream"), Reply(text="plain"), Reply(text="plain again"))
    assert subject.run("one")["final_response"] == "plain"
    assert subject.run("two")["final_response"] == "plain again"
    assert streamed(fake) == [True, True, False, False]


@pytest.mark.parametrize("mode", ["chat_completions", "anthropic_messages"])
def test_a_rejected_stream_switches_streaming_off_only_when_the_plain_request_works(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(fault="reject_stream"), Reply(fault="http_error", status=400))  # the stream and its plain request refused
    subject = harness.make(fake, mode)
    assert subject.run("hi")["failed"]
    fake.enqueue(Reply(fault="reject_stream"), Reply(text="plain"), Reply(text="plain again"))
    assert subject.run("one")["final_response"] == "plain"
    assert subject.run("two")["final_response"] == "plain again" == subject.screen.shown
    assert streamed(fake) == [True, False, True, False, False], "one wasted stream once it is known, not one per turn"


@pytest.mark.parametrize("fault", ["reject_stream_options", "crash_stream_options"])
def test_a_rejected_stream_options_is_remembered_and_streaming_goes_on(harness: Harness, fake: FakeProvider, fault: str) -> None:
    fake.default = Reply(text="streamed anyway", fault=fault)
    subject = harness.make(fake)
    for message in ("one", "two", "three"):
        assert subject.run(message)["final_response"] == "streamed anyway"
    assert subject.screen.resets == 0
    assert ["stream_options" in (r.body or {}) for r in fake.requests] == [True, False, False, False]
    assert all(streamed(fake))


@pytest.mark.parametrize("mode", WIRES)
def test_a_failure_is_reported_in_one_line_with_status_and_message_and_the_history_kept(
    harness: Harness, fake: FakeProvider, mode: str
) -> None:
    fake.default = Reply(fault="http_error", status=503, error_message="upstream is down")
    result = harness.make(fake, mode).run("hello")
    assert result["failed"] and not result["completed"] and result["error_type"] == "ProviderError"
    assert "503" in result["error"] and "upstream is down" in result["error"] and "\n" not in result["error"]
    assert KEY not in result["error"]
    assert result["messages"] == [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("mode", WIRES)
def test_a_wrong_key_and_an_unknown_model_are_named(harness: Harness, fake: FakeProvider, mode: str) -> None:
    fake.default = Reply(text="never")
    fake.api_key = "sk-right-key-000000000000"
    refused = harness.make(fake, mode).run("hi")
    assert refused["failed"] and refused["error_type"] == "AuthenticationError" and "401" in refused["error"]
    fake.api_key = None
    fake.known_models = {"other/model"}
    unknown = harness.make(fake, mode).run("hi")
    assert unknown["failed"] and unknown["error_type"] == "ModelNotFoundError" and "404" in unknown["error"]


def test_an_unreachable_host_is_a_clear_error(harness: Harness, fake: FakeProvider) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = harness.make(fake, base_url=f"http://127.0.0.1:{port}/v1").run("hi")
    assert result["failed"] and result["error_type"] == "ProviderUnreachable" and f"127.0.0.1:{port}" in result["error"]


# ── keys are nowhere ───────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_an_echoed_key_is_in_no_result_log_or_session(harness: Harness, fake: FakeProvider, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.default = Reply(fault="echo_key")
    subject = harness.make(fake, mode)
    result = subject.run("hi")
    assert result["failed"] and result["error_type"] == "AuthenticationError" and "401" in result["error"]
    assert KEY not in json.dumps(result) and KEY not in caplog.text
    assert KEY not in repr(subject.stored())


@pytest.mark.parametrize("mode", WIRES)
def test_a_key_echoed_in_a_mid_stream_error_that_recovers_is_nowhere(
    harness: Harness, fake: FakeProvider, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(Reply(text=ANSWER, fault="inband_error", fault_after=2, error_message=f"upstream rejected key {KEY}"), Reply(text=ANSWER))
    subject = harness.make(fake, mode, continuation="off")
    result = subject.run("hi")
    assert result["completed"] and result["final_response"] == ANSWER
    assert "upstream rejected key" in result["fallback_reason"] and KEY not in result["fallback_reason"]
    assert KEY not in caplog.text and KEY not in json.dumps(result)
    assert KEY not in repr(subject.stored())
    subject.store.close()
    for database in subject.store.path.parent.glob(subject.store.path.name + "*"):
        assert KEY.encode() not in database.read_bytes(), f"the key is in {database}"
