"""Section 11: conduct under faults — each fault scenario, what it cost: outcome, requests, seconds.

The scenarios of a public sixteen-fault resilience benchmark, replayed against loopback fake
providers in this process: a primary and a fallback provider, stall limits of `LIMIT` seconds
(the benchmark used 30 s; the shape is the same, the wait shorter), 2 retries, one turn each on
a fresh `AIAgent` (a primary that recovers runs several turns on one agent). Each row is a
scenario: who answered (or the error), requests to the primary / fallback, seconds to the
answer. No baseline runs here: the rows are what the planner's table (herald/llm/planner.py)
costs, and the targets are the issue's (a silent provider left within one limit + 1 s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from bench.contenders import API_KEY, MODEL
from bench.table import Row
from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent

SECTION = "11 conduct"
LIMIT = 2.0
ANSWER = "the answer"


@dataclass
class Scenario:
    name: str
    primary: list[Reply]
    primary_default: Reply | None = None
    fallback: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    target: str = "—"
    judge: Callable[[str, int, int, float], bool] | None = None
    between: Callable[[FakeProvider], None] | None = None
    turns: int = 1


def _scenarios(quick: bool) -> list[Scenario]:
    ok = Reply(text=ANSWER)
    within_limit = lambda outcome, p, f, s: outcome == "fallback" and s < LIMIT + 1  # noqa: E731
    found = [
        Scenario("healthy", [], ok, judge=lambda o, p, f, s: o == "primary" and p == 1),
        Scenario("never answers (no headers)", [], Reply(fault="hang", stall_seconds=60), target=f"fallback < {LIMIT + 1:g} s", judge=within_limit),
        Scenario("stalls after 20 tokens", [], Reply(text=ANSWER * 10, chunk_chars=2, fault="stall", fault_after=20, stall_seconds=60),
                 target=f"fallback < {LIMIT + 1:g} s + the 20 tokens", judge=lambda o, p, f, s: o == "fallback" and p == 1),
        Scenario("cut mid-stream", [Reply(text=ANSWER * 4, fault="cut", fault_after=3)], ok, judge=lambda o, p, f, s: o == "primary"),
        Scenario("malformed chunk", [Reply(text=ANSWER * 4, fault="malformed", fault_after=2)], ok, judge=lambda o, p, f, s: o == "primary"),
        Scenario("HTML body on 200", [Reply(fault="html")], ok, judge=lambda o, p, f, s: o == "primary"),
        Scenario("429 Retry-After 2 s, no fallback", [Reply(fault="http_error", status=429, retry_after=2)], ok, fallback=False,
                 target="waits ≥ 2 s, 2 requests", judge=lambda o, p, f, s: o == "primary" and p == 2 and s >= 2),
        Scenario("429 Retry-After 2 s, fallback ready", [], Reply(fault="http_error", status=429, retry_after=2),
                 target="fallback at once", judge=lambda o, p, f, s: o == "fallback" and p == 1 and s < 1),
        Scenario("persistent 429, no Retry-After, no fallback", [], Reply(fault="http_error", status=429), fallback=False,
                 target="3 requests, then the 429", judge=lambda o, p, f, s: o.startswith("failed") and p == 3),
        Scenario("500 once", [Reply(fault="http_error", status=500)], ok, judge=lambda o, p, f, s: o == "primary" and p == 2),
        Scenario("503 persistent", [], Reply(fault="http_error", status=503), judge=lambda o, p, f, s: o == "fallback" and p == 3),
        Scenario("400 context_length_exceeded", [], Reply(fault="http_error", status=400, error_message="This model's maximum context length is 8 tokens. However, your messages resulted in 900 tokens."),
                 target="never sent twice unchanged", judge=lambda o, p, f, s: o == "fallback"),
        Scenario("400 content policy", [], Reply(fault="http_error", status=400, error_message="Your request was rejected as a result of our safety system."),
                 target="1 request, not failed over", judge=lambda o, p, f, s: o.startswith("failed") and p == 1 and f == 0),
        Scenario("slow first token (first-token limit 2 s)", [], Reply(text=ANSWER, fault="stall", fault_after=0, stall_seconds=60),
                 options={"stream_first_token_timeout": LIMIT}, judge=within_limit),
        Scenario("primary down, then healthy (cooldown 2 s)", [Reply(fault="http_error", status=503, repeat=3)], ok,
                 options={"failover_cooldown": 2.0}, turns=3, between=lambda primary: time.sleep(2.2),
                 target="back on the primary after the cooldown", judge=lambda o, p, f, s: o == "primary"),
    ]
    return found[:4] if quick else found


def _play(scenario: Scenario) -> tuple[str, int, int, float]:
    with FakeProvider() as primary, FakeProvider() as fallback:
        primary.enqueue(*scenario.primary)
        primary.default = scenario.primary_default
        fallback.default = Reply(text=ANSWER)
        options: dict[str, Any] = dict(
            max_retries=2, stream_first_byte_timeout=LIMIT, stream_idle_timeout=LIMIT, request_timeout=LIMIT * 2, **scenario.options
        )
        if scenario.fallback:
            options["fallback"] = [{"model": "fallback-model", "base_url": fallback.base_url, "api_key": API_KEY}]
        seconds = 0.0
        with AIAgent(
            model=MODEL, base_url=primary.base_url, api_key=API_KEY, skip_context_files=True, skip_memory=True, quiet_mode=True,
            stream_delta_callback=lambda text: None, persist_session=False, enabled_toolsets=[], **options,
        ) as agent:
            for turn in range(scenario.turns):
                if turn and scenario.between is not None:
                    scenario.between(primary)
                started = time.perf_counter()
                result = agent.run_conversation("a question " * 20)
                seconds = time.perf_counter() - started
        if result["failed"]:
            outcome = f"failed: {result['error_type']}"
        else:
            outcome = "primary" if result["answered_by"]["model"] == MODEL else "fallback"
        posts = lambda fake: sum(1 for r in fake.requests if r.method == "POST")  # noqa: E731
        return outcome, posts(primary), posts(fallback), seconds


def run(quick: bool) -> list[Row]:
    rows = []
    for scenario in _scenarios(quick):
        outcome, to_primary, to_fallback, seconds = _play(scenario)
        met = scenario.judge(outcome, to_primary, to_fallback, seconds) if scenario.judge else None
        rows.append(
            Row(SECTION, scenario.name, f"{outcome}; {to_primary} / {to_fallback} requests; {seconds:.2f} s", target=scenario.target, met=met)
        )
    return rows
