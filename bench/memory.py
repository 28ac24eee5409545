"""Section 6: peak memory added by accumulating a long answer, relative to the answer's size.

Chunks are made one at a time by a generator, as a network reader would make them, so
only what the reader keeps shows in the peak. Herald (`read_chat_stream` into a
`StreamAccumulator`, through a `DeltaSink` to a display callback that keeps nothing) is
compared with the bare loop: append each delta to a list, join at the end.
"""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from bench.serve import answer_text
from bench.table import Row
from herald.llm.accumulate import StreamAccumulator
from herald.llm.openai_chat import read_chat_stream
from herald.llm.sink import DeltaSink

SECTION = "6 memory"
TARGET = 3.0


@dataclass
class _Delta:
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[Any] | None = None


@dataclass
class _Choice:
    delta: _Delta
    finish_reason: str | None = None


@dataclass
class _Chunk:
    choices: list[_Choice] = field(default_factory=list)
    id: str = "chatcmpl-bench"
    model: str = "m"
    usage: Any = None
    error: Any = None


def _chunks(answer: str, chunk_chars: int) -> Iterator[_Chunk]:
    """The answer as chat-completion chunks; each delta a fresh string, as if just parsed."""
    for start in range(0, len(answer), chunk_chars):
        yield _Chunk([_Choice(_Delta(content=answer[start : start + chunk_chars]))])
    yield _Chunk([_Choice(_Delta(), finish_reason="stop")])


def _herald(chunks: Iterator[_Chunk]) -> str:
    sink = DeltaSink(text_callbacks=[lambda text: None])
    return read_chat_stream(chunks, StreamAccumulator(), sink).message.content or ""


def _bare(chunks: Iterator[_Chunk]) -> str:
    out: list[str] = []
    for chunk in chunks:
        for choice in chunk.choices:
            if choice.delta.content:
                out.append(choice.delta.content)
    return "".join(out)


def _peak(reader: Callable[[Iterator[_Chunk]], str], answer: str, chunk_chars: int) -> int:
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
