"""Section 14: continuation — a long answer cut at two thirds, continued vs restarted.

Both runs are the same agent against the same loopback fake provider, which generates the answer
at a fixed pace, streamed or plain (so seconds mean generation time, as with a real model), and cuts the first
stream after two thirds of it. The baseline is `continuation="off"` (Herald before continuation:
a reset, then the whole answer again from a plain request); Herald is `continuation="prefill"`
(the fake continues from the prefix it is given, as vLLM, SGLang, llama.cpp and DeepSeek do).

- tokens requested: the completion tokens the provider generated for the call: the cut stream's
  (its share of the answer, as the fake bills it) plus the answering request's reported usage;
- seconds to the complete answer: the turn's wall time;
- characters shown twice: every character delivered to the text callback minus the answer's
  (a restart shows the cut two thirds again); the target is 0.
"""

from __future__ import annotations

import time
from typing import Any

from bench.contenders import API_KEY, MODEL
from bench.table import Row
from fakeprovider import FakeProvider, Reply
from herald.agent import AIAgent

SECTION = "14 continuation"
CHUNK = 4


def _answer(chars: int) -> str:
    words = "continuation keeps what was shown and asks only for the rest of the answer ".split()
    text, i = "", 0
    while len(text) < chars:
        text += words[i % len(words)] + " "
        i += 1
    return text[:chars].rstrip() + "."


def _turn(setting: str, text: str, tokens: int, pace: float) -> tuple[int, float, int, str]:
    """(completion tokens generated, seconds, characters shown twice, the final answer) for one turn."""
    chunks = len(text) // CHUNK
    cut_after = chunks * 2 // 3
    with FakeProvider() as fake:
        fake.enqueue(Reply(text, fault="cut", fault_after=cut_after, chunk_chars=CHUNK, delay=pace, usage=(50, tokens)))
        fake.default = Reply(text, chunk_chars=CHUNK, delay=pace, usage=(50, tokens), pace_plain=True)
        shown: list[str] = []
        with AIAgent(
            model=MODEL, base_url=fake.base_url, api_key=API_KEY, skip_context_files=True, skip_memory=True,
            quiet_mode=True, stream_delta_callback=shown.append, stream_reset_callback=lambda: None,
            persist_session=False, enabled_toolsets=[], max_retries=0, continuation=setting,
        ) as agent:
            started = time.perf_counter()
            result: dict[str, Any] = agent.run_conversation("write the long answer")
            seconds = time.perf_counter() - started
    answer = result["final_response"] or ""
    cut_tokens = round(tokens * cut_after * CHUNK / len(text))
    answered_tokens = (result["usage"] or {}).get("output_tokens") or 0
    twice = sum(len(piece) for piece in shown) - len(answer)
    return cut_tokens + answered_tokens, seconds, twice, answer


def run(quick: bool) -> list[Row]:
    chars, tokens, pace = (600, 150, 0.001) if quick else (6000, 1500, 0.002)
    text = _answer(chars)
    _turn("off", text, tokens, 0.0)  # warm-up: the first turn of a process pays for imports and clients
    c_tokens, c_seconds, c_twice, c_answer = _turn("prefill", text, tokens, pace)
    r_tokens, r_seconds, r_twice, r_answer = _turn("off", text, tokens, pace)
    whole = c_answer == text and r_answer == text
    label = f"{chars}-char answer ({tokens} tokens) cut at 2/3"
    return [
        Row(SECTION, f"{label}: completion tokens generated", str(c_tokens), f"{r_tokens} (restart)",
            f"{c_tokens / r_tokens:.2f}×", f"≤ {tokens} (the answer once)", c_tokens <= tokens and whole),
        Row(SECTION, f"{label}: seconds to the complete answer", f"{c_seconds:.2f} s", f"{r_seconds:.2f} s (restart)",
            f"{c_seconds / r_seconds:.2f}×", "< restart", c_seconds < r_seconds and whole),
        Row(SECTION, f"{label}: characters shown twice", str(c_twice), f"{r_twice} (restart)", "—", "0", c_twice == 0 and whole),
    ]
