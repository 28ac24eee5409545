"""Section 6: peak memory added by accumulating a long answer, relative to the answer's size.

Chunks are made one at a time by a generator, as the JSON decoder would make them (plain
dicts), so only what the reader keeps shows in the peak. Herald (`ChatStreamReader` into a
`StreamAccumulator`, through a `DeltaSink` to a display callback that keeps nothing) is
compared with the bare loop: append each delta to a list, join at the end.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any, Callable, Iterator

from bench.serve import answer_text
from bench.table import Row
from herald.llm.accumulate import StreamAccumulator
from herald.llm.openai_chat import ChatStreamReader
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import read_objects

SECTION = "6 memory"
TARGET = 3.0


Chunk = dict[str, Any]


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> Chunk:
    return {"id": "chatcmpl-bench", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def _chunks(answer: str, chunk_chars: int) -> Iterator[Chunk]:
    """The answer as chat-completion chunks; each delta a fresh string, as if just parsed."""
    for start in range(0, len(answer), chunk_chars):
        yield _chunk({"content": answer[start : start + chunk_chars]})
    yield _chunk({}, finish_reason="stop")


def _herald(chunks: Iterator[Chunk]) -> str:
    sink = DeltaSink(text_callbacks=[lambda text: None])
    return read_objects(chunks, ChatStreamReader(StreamAccumulator(), sink), None).message.content or ""


def _bare(chunks: Iterator[Chunk]) -> str:
    out: list[str] = []
    for chunk in chunks:
        for choice in chunk["choices"]:
            text = choice["delta"].get("content")
            if text:
                out.append(text)
    return "".join(out)


def _peak(reader: Callable[[Iterator[Chunk]], str], answer: str, chunk_chars: int) -> int:
    """Peak bytes allocated while `reader` consumes the chunks (the answer's source excluded)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = reader(_chunks(answer, chunk_chars))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    if result != answer:
        raise AssertionError("the reader returned a different answer")
    del result
    return peak


def run(quick: bool) -> list[Row]:
    size = 100_000 if quick else 10_000_000
    answer = answer_text(size)
    rows: list[Row] = []
    for chunk_chars, label in ((4, "token-sized"), (64, "")):
        herald = _peak(_herald, answer, chunk_chars) / size
        bare = _peak(_bare, answer, chunk_chars) / size
        kind = f"{chunk_chars}-char deltas" + (f" ({label})" if label else "")
        rows.append(
            Row(SECTION, f"peak / answer, {size / 1e6:g} MB answer, {kind}", f"{herald:.2f}×",
                f"{bare:.2f}× (list + join)", f"{herald / bare:.2f}×", f"≤ {TARGET:.0f}×", herald <= TARGET)
        )
    return rows
