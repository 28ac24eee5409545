"""Section 13: the conduct issue's fault scenarios through `herald serve`, as a client sees them.

`herald serve` runs out of process with public models over two loopback fake providers (a
primary and a backup, on different wires), limits of 5 s (first byte, idle); a raw-HTTP client
asks for a stream. Model "m" keeps the default `continuation = "auto"`, which the fake (no server
Herald knows) does not get: a cut after content is restarted, so the client gets an in-band
error. Model "c" sets `continuation = "prefill"` on both: the same cut is continued in place. A
stall after content is continued too where there is no fallback (model "s", the primary alone);
with one, the planner leaves the silent provider and the fallback restarts the answer (a
failover never continues another provider's text), which the client sees as the in-band error. Per scenario: what the client got (a complete answer, an in-band error, or a status),
requests each provider saw, and seconds to the end of the response. A truncated answer that
ends like a complete one would be reported as "TRUNCATED" and fail the row; a complete answer
is exactly the scripted one (nothing shown twice at a seam).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.gateway import herald_gateway_config
from bench.table import Row
from fakeprovider import FakeProvider, Reply

SECTION = "13 gateway faults"
ANSWER = "The quick brown fox jumps over the lazy dog, twice over: the quick brown fox jumps again."
KEY = "sk-faults-client"
LIMIT = 5.0


@dataclass(frozen=True)
class Scenario:
    name: str
    primary: tuple[Reply, ...]
    backup: Reply | None = None
    model: str = "m"


SCENARIOS = (
    Scenario("healthy", (Reply(text=ANSWER),)),
    Scenario("cut before content", (Reply(text=ANSWER, fault="cut"),)),
    Scenario("cut mid-stream", (Reply(text=ANSWER, fault="cut", fault_after=5),)),
    Scenario("malformed chunk", (Reply(text=ANSWER, fault="malformed", fault_after=3),)),
    Scenario("in-band error before content", (Reply(text=ANSWER, fault="inband_error"),)),
    Scenario("never answers (no first byte)", (Reply(text=ANSWER, fault="stall_first_byte", stall_seconds=60),)),
    Scenario("stalls mid-stream", (Reply(text=ANSWER, fault="stall", fault_after=5, stall_seconds=60),)),
    Scenario("cut mid-stream, continuation = prefill", (Reply(text=ANSWER, fault="cut", fault_after=5),), model="c"),
    Scenario("stalls mid-stream, continuation = prefill, no fallback", (Reply(text=ANSWER, fault="stall", fault_after=5, stall_seconds=60),),
             model="s"),
    Scenario("stalls mid-stream, continuation = prefill, a fallback", (Reply(text=ANSWER, fault="stall", fault_after=5, stall_seconds=60),),
             model="c"),
    Scenario("cut mid-stream, prefill refused", (Reply(text=ANSWER, fault="cut", fault_after=5), Reply(text=ANSWER, reject_prefill=True)), model="c"),
    Scenario("429 Retry-After 2", (Reply(fault="http_error", status=429, retry_after=2, repeat=50),)),
    Scenario("503, every request", (Reply(fault="http_error", status=503, repeat=50),)),
    Scenario("400 content policy", (Reply(fault="http_error", status=400, error_message="content policy violation", repeat=50),)),
    Scenario("both providers down", (Reply(fault="http_error", status=503, repeat=50),), Reply(fault="http_error", status=503)),
)


def run(quick: bool) -> list[Row]:
    chosen = (*SCENARIOS[:3], SCENARIOS[7]) if quick else SCENARIOS  # [7]: a cut continued
    rows: list[Row] = []
    with FakeProvider() as primary, FakeProvider() as backup, tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "gateway.toml"
        config.write_text(
            f'keys = ["{KEY}"]\nstream_first_byte_timeout = {LIMIT}\nstream_idle_timeout = {LIMIT}\nmax_retries = 2\n'
            '[[models]]\nname = "m"\nproviders = [\n'
            f'  {{ model = "primary", base_url = "{primary.base_url}", api_key = "sk-p" }},\n'
            f'  {{ model = "backup", base_url = "{backup.anthropic_base_url}", api_mode = "anthropic_messages", api_key = "sk-b" }},\n]\n'
            '[[models]]\nname = "c"\nproviders = [\n'
            f'  {{ model = "primary", base_url = "{primary.base_url}", api_key = "sk-p", continuation = "prefill" }},\n'
            f'  {{ model = "backup", base_url = "{backup.anthropic_base_url}", api_mode = "anthropic_messages", api_key = "sk-b", '
            'continuation = "prefill" },\n]\n'
            '[[models]]\nname = "s"\nproviders = [\n'
            f'  {{ model = "primary", base_url = "{primary.base_url}", api_key = "sk-p", continuation = "prefill" }},\n]\n'
        )
        for scenario in chosen:
            primary.clear()
            backup.clear()
            primary.enqueue(*scenario.primary)
            primary.default = Reply(text=ANSWER)
            backup.default = scenario.backup or Reply(text=ANSWER)
            # A fresh gateway per scenario: the circuit breaker starts closed each time.
            with herald_gateway_config(config) as (url, _):
                outcome, seconds = _ask(url, scenario.model)
            rows.append(Row(
                SECTION, scenario.name, outcome, f"requests: primary {len(primary.requests)}, backup {len(backup.requests)}",
                f"{seconds:.2f} s", "no truncated answer", not outcome.startswith("TRUNCATED"),
            ))
    return rows


def _ask(base_url: str, model: str) -> tuple[str, float]:
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "q"}]}
    started = time.perf_counter()
    response = httpx.post(f"{base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=120)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.json()['error']['message'][:60]}", seconds
    chunks = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    done = response.text.endswith("data: [DONE]\n\n")
    if done and text == ANSWER:
        return "complete answer", seconds
    if not done and chunks and "error" in chunks[-1]:
        return f"in-band error after {len(text)} chars, no [DONE]", seconds
    return f"TRUNCATED: {len(text)} of {len(ANSWER)} chars, [DONE]={done}", seconds
