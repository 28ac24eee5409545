"""Failover over real HTTP: two and three loopback fake providers, key pools, cooldowns, interrupts.

Each test drives `run_conversation` (the path the CLI uses). Extra providers are real
`FakeProvider` servers of their own; time for cooldowns comes from an injected clock.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent
from herald.sessions import SessionStore

# Not shaped like real keys, so only Herald's own redaction (not the shape scrubber) hides them.
PRIMARY_KEY = "primary-secret-alpha-0001"
SPARE_KEY = "primary-secret-bravo-0002"
SECOND_KEY = "second-secret-charlie-0003"
THIRD_KEY = "third-secret-delta-0004"
ALL_KEYS = (PRIMARY_KEY, SPARE_KEY, SECOND_KEY, THIRD_KEY)


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class Screen:
    """A consumer that clears on reset, as a display does: it ends with what it should show."""

    def __init__(self) -> None:
        self.text = ""
        self.deltas: list[str] = []
        self.resets = 0
        self.before_reset: list[str] = []

    def on_text(self, delta: str) -> None:
        self.deltas.append(delta)
        self.text += delta

    def on_reset(self) -> None:
        self.resets += 1
        self.before_reset.append(self.text)
        self.text = ""


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def third() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s


def make_agent(primary: FakeProvider, tmp_path: Path, *, screen: Screen | None = None, clock: Clock | None = None, **kwargs: Any) -> AIAgent:
    options: dict[str, Any] = dict(
        model="primary-model", base_url=primary.base_url, api_key=PRIMARY_KEY, quiet_mode=True,
        skip_context_files=True, skip_memory=True, cwd=tmp_path, max_retries=0, persist_session=False,
        enabled_toolsets=[],
    )
    if screen is not None:
        options.update(stream_delta_callback=screen.on_text, stream_reset_callback=screen.on_reset)
    options.update(kwargs)
    agent = AIAgent(**options)
    if clock is not None:
        agent.client.chain.clock = clock
    return agent


def fallback(provider: FakeProvider, model: str = "second-model", key: str | None = SECOND_KEY, **more: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"model": model, "base_url": provider.base_url, **more}
    if key is not None:
        entry["api_key"] = key
    return entry


def keys_sent(provider: FakeProvider) -> list[str]:
    return [
        r.headers.get("x-api-key") or r.headers.get("authorization", "").removeprefix("Bearer ")
        for r in provider.requests
        if r.method == "POST"
    ]


def posts(provider: FakeProvider) -> int:
    return sum(1 for r in provider.requests if r.method == "POST")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ── providers ───────────────────────────────────────────────────────────


def test_primary_down_then_skipped_for_the_cooldown_then_probed_and_recovered(fake, second, tmp_path):
    clock = Clock()
    screen = Screen()
    agent = make_agent(fake, tmp_path, screen=screen, clock=clock, fallback=[fallback(second)], failover_cooldown=90)
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(text="the fallback answers")

    first = agent.run_conversation("hello")
    assert first["completed"], first["error"]
    assert first["final_response"] == "the fallback answers" == screen.text
    assert posts(fake) == 1, "a 503 (no retries configured) fails over at once: no plain request to the same provider"
    assert first["answered_by"] == {
        "model": "second-model",
        "base_url": second.base_url,
        "reported_model": "second-model",
        "skipped": [{"model": "primary-model", "base_url": fake.base_url, "reason": "503 upstream error"}],
    }
    assert second.requests[0].body["model"] == "second-model"
    assert second.requests[0].body["messages"][-1] == {"role": "user", "content": "hello"}

    clock.now += 89  # within the cooldown: the dead primary costs no request at all
    for _ in range(3):
        assert agent.run_conversation("again")["final_response"] == "the fallback answers"
    assert posts(fake) == 1

    fake.default = Reply(text="the primary is back")
    clock.now += 2  # cooldown over: probed once, and it answers
    back = agent.run_conversation("and now?")
    assert back["final_response"] == "the primary is back"
    assert back["answered_by"] == {"model": "primary-model", "base_url": fake.base_url, "reported_model": "primary-model", "skipped": []}
    assert posts(fake) == 2
    assert agent.run_conversation("still?")["final_response"] == "the primary is back"
    assert posts(second) == 4


def test_a_failed_providers_streamed_text_is_void_reset_then_the_replacement(fake, second, tmp_path):
    screen = Screen()
    agent = make_agent(fake, tmp_path, screen=screen, fallback=[fallback(second)])
    # The primary streams part of an answer and is cut; its own plain request then fails too.
    fake.enqueue(
        Reply(text="A primary answer that never finishes", chunk_chars=5, fault="cut", fault_after=3),
        Reply(fault="http_error", status=502),
    )
    second.default = Reply(text="The complete replacement.", chunk_chars=4)
    result = agent.run_conversation("q")
    assert result["completed"], result["error"]
    assert screen.resets == 1
    shown = screen.before_reset[0]
    assert shown and "A primary answer that never finishes".startswith(shown), "the primary's text had been shown"
    assert screen.text == "The complete replacement." == result["final_response"]
    assert len(screen.deltas) > 2, "the replacement streamed"


def test_a_stream_fault_the_primarys_plain_request_fixes_never_fails_over(fake, second, tmp_path):
    screen = Screen()
    agent = make_agent(fake, tmp_path, screen=screen, fallback=[fallback(second)])
    fake.default = Reply(text="whole answer", chunk_chars=3, fault="cut", fault_after=2)  # every stream cut; plain works
    result = agent.run_conversation("q")
    assert result["final_response"] == "whole answer" == screen.text
    assert result["answered_by"]["skipped"] == []
    assert posts(second) == 0
    assert [r.stream for r in fake.requests] == [True, False]


def test_an_interrupt_never_fails_over(fake, second, tmp_path):
    screen = Screen()
    agent = make_agent(fake, tmp_path, screen=screen, fallback=[fallback(second)])
    fake.enqueue(Reply(text="slow words " * 40, chunk_chars=4, delay=0.05))
    second.default = Reply(text="must not be asked")
    threading.Timer(0.4, agent.interrupt).start()
    started = time.monotonic()
    result = agent.run_conversation("q")
    assert time.monotonic() - started < 5
    assert result["interrupted"] and not result["failed"]
    assert result["final_response"] and ("slow words " * 40).startswith(result["final_response"])
    assert posts(second) == 0
    assert screen.resets == 0


def test_without_stream_consumers_plain_requests_fail_over_too(fake, second, tmp_path):
    agent = make_agent(fake, tmp_path, fallback=[fallback(second)])
    fake.default = Reply(fault="http_error", status=500)
    second.default = Reply(text="plain fallback")
    result = agent.run_conversation("q")
    assert result["final_response"] == "plain fallback"
    assert [r.stream for r in fake.requests + second.requests] == [False, False]


def test_failover_to_another_wire_rebuilds_the_request_from_the_history(fake, second, tmp_path):
    screen = Screen()
    entry = {"model": "claude-x", "base_url": second.anthropic_base_url, "api_key": SECOND_KEY, "api_mode": "anthropic_messages"}
    agent = make_agent(fake, tmp_path, screen=screen, fallback=[entry])
    fake.default = Reply(fault="http_error", status=503)
    second.default = Reply(text="from the Messages wire")
    result = agent.run_conversation("hi there", system_message="be brief")
    assert result["final_response"] == "from the Messages wire" == screen.text
    sent = second.requests[0]
    assert sent.path.endswith("/v1/messages") and keys_sent(second) == [SECOND_KEY]
    assert sent.body["model"] == "claude-x" and sent.body["messages"][-1]["content"] in ("hi there", [{"type": "text", "text": "hi there"}])


def test_a_request_too_long_goes_only_to_a_different_model(fake, second, third, tmp_path):
    too_long = Reply(fault="http_error", status=400, error_message="This model's maximum context length is 8192 tokens")
    fake.default = too_long
    same_model = fallback(second, model="primary-model")
    agent = make_agent(fake, tmp_path, fallback=[same_model, fallback(third, model="bigger-model", key=THIRD_KEY)])
    third.default = Reply(text="a longer context")
    result = agent.run_conversation("a very long question")
    assert result["final_response"] == "a longer context"
    assert posts(second) == 0, "the same model would reject the same request"

    lone = make_agent(fake, tmp_path, fallback=[same_model])
    failed = lone.run_conversation("a very long question")
    assert failed["failed"] and failed["error_type"] == "ProviderError"
    assert "maximum context length" in failed["error"] and "providers failed" not in failed["error"]
    assert posts(second) == 0


# ── keys ────────────────────────────────────────────────────────────────


def test_a_refused_key_is_skipped_for_the_agents_life(fake, tmp_path):
    fake.api_key = SPARE_KEY  # the first key of the pool was revoked
    fake.default = Reply(text="ok")
    agent = make_agent(fake, tmp_path, screen=Screen(), api_keys=[PRIMARY_KEY, SPARE_KEY])
    assert agent.run_conversation("one")["final_response"] == "ok"
    assert keys_sent(fake) == [PRIMARY_KEY, SPARE_KEY]  # a 401 moves to the next key at once, no plain request
    for _ in range(3):
        assert agent.run_conversation("more")["final_response"] == "ok"
    assert keys_sent(fake)[2:] == [SPARE_KEY] * 3


def test_herald_api_keys_from_the_environment(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("HERALD_API_KEYS", f" {PRIMARY_KEY} , {SPARE_KEY} ")
    fake.api_key = SPARE_KEY
    fake.default = Reply(text="ok")
    agent = make_agent(fake, tmp_path, api_key=None)
    assert agent.run_conversation("q")["final_response"] == "ok"
    assert keys_sent(fake) == [PRIMARY_KEY, SPARE_KEY]


def test_a_429_rotates_to_the_next_key_before_waiting(fake, tmp_path):
    screen = Screen()
    # Three retries, each waiting 30 s if Herald waited: the turn would take minutes.
    agent = make_agent(fake, tmp_path, screen=screen, api_keys=[PRIMARY_KEY, SPARE_KEY], max_retries=3)
    fake.enqueue(Reply(fault="http_error", status=429, retry_after=30), Reply(text="rotated", chunk_chars=3))
    started = time.monotonic()
    result = agent.run_conversation("q")
    assert time.monotonic() - started < 10
    assert result["final_response"] == "rotated" == screen.text
    assert keys_sent(fake) == [PRIMARY_KEY, SPARE_KEY], "nothing more to the rate-limited key, not even a plain request"
    fake.default = Reply(text="again")
    agent.run_conversation("q2")
    assert keys_sent(fake)[-1] == SPARE_KEY, "the key that worked is tried first"


def test_a_quota_error_cools_the_key_down(fake, second, tmp_path):
    clock = Clock()
    agent = make_agent(fake, tmp_path, screen=Screen(), clock=clock, api_keys=[PRIMARY_KEY, SPARE_KEY], fallback=[fallback(second)])
    second.default = Reply(text="from the fallback")
    fake.enqueue(Reply(fault="http_error", status=402, error_message="Insufficient credits"))
    fake.default = Reply(text="spare key answers")
    assert agent.run_conversation("one")["final_response"] == "spare key answers"
    assert keys_sent(fake) == [PRIMARY_KEY, SPARE_KEY]

    # A minute later the spare key is rate limited; the first is still out of quota: not tried.
    clock.now += 100
    fake.enqueue(Reply(fault="http_error", status=429))
    assert agent.run_conversation("two")["final_response"] == "from the fallback"
    assert keys_sent(fake)[2:] == [SPARE_KEY]

    clock.now += 3600  # the quota cooldown is over: the first key is usable again
    fake.api_key = PRIMARY_KEY
    assert agent.run_conversation("three")["final_response"] == "spare key answers"
    assert PRIMARY_KEY in keys_sent(fake)[3:]


# ── everything down ─────────────────────────────────────────────────────


def test_all_providers_down_the_last_error_names_each_one_and_no_key_is_anywhere(fake, second, tmp_path, store, caplog):
    caplog.set_level(logging.DEBUG)
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(fault="echo_key")  # a 401 whose body repeats the key it was sent
    entries = [fallback(second), {"model": "third-model", "base_url": dead, "api_key": THIRD_KEY}]
    agent = make_agent(fake, tmp_path, screen=Screen(), fallback=entries, api_keys=[PRIMARY_KEY, SPARE_KEY],
                       persist_session=True, session_store=store)
    result = agent.run_conversation("is anyone there?")
    assert result["failed"] and not result["completed"]
    assert result["error_type"] == "ProviderUnreachable", "the last provider's error"
    error = result["error"]
    assert error.startswith("all 3 providers failed (")
    assert f"primary-model via 127.0.0.1:{fake.port}: key 1/2 503 upstream error;" in error
    assert f"second-model via 127.0.0.1:{second.port}: 401" in error
    assert f"third-model via {dead.split('/')[2]}: unreachable" in error
    assert posts(fake) == 1 and posts(second) == 1, "a 503 says nothing about keys: no rotation"
    assert result["answered_by"] is None

    again = agent.run_conversation("and now?")  # all resting or refused: the resting ones are still tried
    assert again["failed"]
    assert posts(second) == 1, "the refused key of the second provider is never sent again"

    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    saved = repr(store.load_messages(agent.session_id)) if agent.session_id else ""
    dump = b"".join(f.read_bytes() for f in store.path.parent.glob(store.path.name + "*")).decode("utf-8", "replace")
    for key in ALL_KEYS:
        for place, text in (("error", error + again["error"]), ("logs", logged), ("session", saved + dump), ("result", repr(result))):
            assert key not in text, f"{key} in {place}"
    assert "second-model" in caplog.text and "failed" in caplog.text


def test_answered_by_is_recorded_per_assistant_message_in_the_session(fake, second, tmp_path, store):
    clock = Clock()
    agent = make_agent(fake, tmp_path, clock=clock, fallback=[fallback(second)], persist_session=True, session_store=store)
    fake.enqueue(Reply(fault="http_error", status=503))  # plain requests: no stream consumer
    second.default = Reply(text="fallback")
    agent.run_conversation("first")
    clock.now += 1000
    fake.default = Reply(text="primary")
    agent.run_conversation("second")
    saved = [m for m in store.load_messages(agent.session_id) if m["role"] == "assistant"]
    assert [m["answered_by"]["model"] for m in saved] == ["second-model", "primary-model"]
    assert saved[0]["answered_by"]["skipped"][0]["reason"].startswith("503")
    # Herald's own key: never sent back to a provider.
    assert all("answered_by" not in m for m in fake.requests[-1].body["messages"])


def test_without_fallbacks_the_result_still_says_who_answered(fake, tmp_path):
    fake.default = Reply(text="ok")
    result = make_agent(fake, tmp_path).run_conversation("q")
    assert result["answered_by"] == {"model": "primary-model", "base_url": fake.base_url, "reported_model": "primary-model", "skipped": []}
    assert posts(fake) == 1


def test_three_providers_the_third_answers_and_the_result_says_why_not_the_others(fake, second, third, tmp_path):
    screen = Screen()
    fake.api_key = "a-key-nobody-has-000"  # both keys of the primary are refused
    second.enqueue(Reply(text="half an answer from the second", chunk_chars=4, fault="cut", fault_after=2),
                   Reply(fault="http_error", status=500, error_message="internal"))
    third.default = Reply(text="the third answers")
    agent = make_agent(fake, tmp_path, screen=screen, api_keys=[PRIMARY_KEY, SPARE_KEY],
                       fallback=[fallback(second), fallback(third, model="third-model", key=THIRD_KEY)])
    result = agent.run_conversation("q")
    assert result["final_response"] == "the third answers" == screen.text
    assert screen.resets == 1, "the second's streamed text was void"
    skipped = result["answered_by"]["skipped"]
    assert [s["model"] for s in skipped] == ["primary-model", "second-model"]
    assert skipped[0]["reason"].startswith("401") and skipped[1]["reason"] == "500 internal"
    assert keys_sent(fake) == [PRIMARY_KEY, SPARE_KEY]
    assert [r.stream for r in second.requests] == [True, False], "the cut stream, then its one plain request"
    assert keys_sent(third) == [THIRD_KEY]
    result = agent.run_conversation("again")  # the primary has no key left; the second rests
    assert result["final_response"] == "the third answers"
    assert posts(fake) == 2 and posts(second) == 2


def test_a_silent_primary_fails_over_after_one_limit_without_a_plain_request(second, tmp_path):
    with socket.socket() as silent:  # accepts connections and never answers a byte
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        base_url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        screen = Screen()
        second.default = Reply(text="the fallback answers")
        agent = AIAgent(
            model="primary-model", base_url=base_url, api_key=PRIMARY_KEY, quiet_mode=True, skip_context_files=True,
            skip_memory=True, cwd=tmp_path, max_retries=0, persist_session=False, enabled_toolsets=[],
            stream_delta_callback=screen.on_text, stream_reset_callback=screen.on_reset,
            stream_first_byte_timeout=0.5, request_timeout=0.5, fallback=[fallback(second)],
        )
        started = time.monotonic()
        result = agent.run_conversation("q")
        assert time.monotonic() - started < 15
    assert result["final_response"] == "the fallback answers" == screen.text
    assert result["answered_by"]["skipped"][0]["reason"] == "stream stalled: no first byte progress within 0.5s"
    assert [(a["mode"], a["outcome"], a["next"]) for a in result["attempts"]] == [
        ("stream", "stalled", "fallback"),  # silence is taken as down: no plain request, no retry
        ("stream", "ok", None),
    ]
