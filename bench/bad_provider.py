"""Section 4: requests sent over several turns to providers that reject streaming.

Herald learns from the first rejection and sends one wasted request in total. The
baseline is measured, not assumed: a client that forgets (a fresh agent per turn, so
nothing is remembered) wastes one request on every turn.
"""

from __future__ import annotations

from typing import Callable

from bench.contenders import MESSAGES, MODEL, make_agent
from bench.table import Row
from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent

SECTION = "4 bad provider"
TURNS = 5
ANSWER = "fine, without streaming"
FAULTS = {"reject_stream": "rejects stream: true", "reject_stream_options": "rejects stream_options"}


def _requests(fault: str, agent_for_turn: Callable[[str], AIAgent], *, close_each: bool) -> int:
    """Requests the provider received over `TURNS` streamed calls; each call must still answer."""
    with FakeProvider() as fake:
        fake.default = Reply(text=ANSWER, fault=fault)
        for _ in range(TURNS):
            agent = agent_for_turn(fake.base_url)
            try:
                response = agent._interruptible_streaming_api_call({"model": MODEL, "messages": MESSAGES})
            finally:
                if close_each:
                    agent.close()
            if response.message.content != ANSWER:
                raise AssertionError(f"{fault}: got {response.message.content!r}")
        return len(fake.requests)


def _measure(fault: str) -> tuple[int, int]:
    """(Herald's requests with one agent across turns, a forgetful client's requests)."""
    shown: list[str] = []
    kept: dict[str, AIAgent] = {}

    def same_agent(base_url: str) -> AIAgent:
        return kept.setdefault(base_url, make_agent(base_url, shown.append))

    def fresh_agent(base_url: str) -> AIAgent:
        return make_agent(base_url, shown.append)

    try:
        return _requests(fault, same_agent, close_each=False), _requests(fault, fresh_agent, close_each=True)
    finally:
        for agent in kept.values():
            agent.close()


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for fault, label in FAULTS.items():
        herald, forgetful = _measure(fault)
        wasted, forgetful_wasted = herald - TURNS, forgetful - TURNS
        rows.append(
            Row(SECTION, f"{label}: requests for {TURNS} turns", f"{herald} ({wasted} wasted)",
                f"{forgetful} ({forgetful_wasted} wasted; forgetful client)", f"{herald / forgetful:.2f}×",
                "1 wasted in total", wasted == 1)
        )
    return rows
