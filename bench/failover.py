"""Section 8: failover — what a dead primary and a rate-limited key cost over several turns.

Both baselines are measured, not assumed, against loopback fake providers (this section
counts requests and waits, it does not time Herald's own code):

- a dead primary (every request 503) with a healthy fallback: Herald pays the primary's
  stream and its one retry once (no plain request: a 503 is not about streaming), then
  skips it for the cooldown. The baseline is a
  client that forgets (a fresh agent per turn), so it pays them on every turn.
- a key answered 429 with `Retry-After`: Herald rotates to the pool's next key at once; the
  baseline, an agent with that one key, waits as it is told and retries.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any, Callable

from bench.contenders import API_KEY, MODEL
from bench.table import Row
from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent

SECTION = "8 failover"
ANSWER = "answered"
SPARE_KEY = "bench-spare-key-000000000002"


def _agent(primary: FakeProvider, **options: Any) -> AIAgent:
    shown: list[str] = []
    return AIAgent(
        model=MODEL, base_url=primary.base_url, api_key=API_KEY, skip_context_files=True, skip_memory=True,
        quiet_mode=True, stream_delta_callback=shown.append, persist_session=False, enabled_toolsets=[], **options,
    )


def _turns(agent_for_turn: Callable[[], AIAgent], turns: int) -> float:
    """Seconds for `turns` turns; each must be answered."""
    started = time.perf_counter()
    for _ in range(turns):
        result = agent_for_turn().run_conversation("hello")
        if result["final_response"] != ANSWER:
            raise AssertionError(f"turn failed: {result['error']}")
    return time.perf_counter() - started


def _dead_primary(turns: int) -> tuple[int, float, int, float]:
    """(Herald's requests to the dead primary, its seconds, the forgetful client's requests, its seconds)."""
    results: list[tuple[int, float]] = []
    for forgetful in (False, True):
        with FakeProvider() as primary, FakeProvider() as backup, ExitStack() as agents:  # every agent closed
            primary.default = Reply(fault="http_error", status=503)
            backup.default = Reply(text=ANSWER)
            options = dict(fallback=[{"model": "backup", "base_url": backup.base_url, "api_key": API_KEY}], max_retries=1)
            kept = agents.enter_context(_agent(primary, **options))
            fresh = lambda: agents.enter_context(_agent(primary, **options))  # noqa: E731
            seconds = _turns(fresh if forgetful else (lambda: kept), turns)
            results.append((len(primary.requests), seconds))
    (herald, herald_s), (baseline, baseline_s) = results
    return herald, herald_s, baseline, baseline_s


def _rate_limited_key(retry_after: float) -> tuple[float, float]:
    """(Herald's seconds to an answer with a two-key pool, a one-key agent's seconds)."""
    seconds = []
    for pool in (True, False):
        with FakeProvider() as provider:
            provider.enqueue(Reply(fault="http_error", status=429, retry_after=retry_after))
            provider.default = Reply(text=ANSWER)
            with _agent(provider, max_retries=2, **({"api_keys": [API_KEY, SPARE_KEY]} if pool else {})) as agent:
                seconds.append(_turns(lambda: agent, 1))
    return seconds[0], seconds[1]


def run(quick: bool) -> list[Row]:
    turns = 3 if quick else 10
    herald, herald_s, baseline, baseline_s = _dead_primary(turns)
    per_turn = baseline // turns
    retry_after = 1.0 if quick else 5.0
    rotated, waited = _rate_limited_key(retry_after)
    return [
        Row(SECTION, f"dead primary, healthy fallback: requests to the primary in {turns} turns", str(herald),
            f"{baseline} (forgetful client)", f"{herald / baseline:.2f}×", f"{per_turn} (first turn only)", herald == per_turn),
        Row(SECTION, f"same: wall time for {turns} turns (max_retries=1)", f"{herald_s * 1000:.0f} ms",
            f"{baseline_s * 1000:.0f} ms (forgetful client)", f"{herald_s / baseline_s:.2f}×"),
        Row(SECTION, f"429 with Retry-After {retry_after:g} s on key 1: time to the answer", f"{rotated * 1000:.0f} ms",
            f"{waited * 1000:.0f} ms (one key: waits)", f"{rotated / waited:.3f}×", f"< {retry_after:g} s (no wait)",
            rotated < retry_after),
    ]
