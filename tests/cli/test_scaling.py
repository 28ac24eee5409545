"""Work grows linearly with the answer length (counted, not timed)."""

from __future__ import annotations

from herald.cli.live import LiveMarkdown

from .conftest import FakeClock, make_console
from .docs import TRICKY, chunks

DELTA_CHARS = 4
DELTA_SECONDS = 1 / 60  # ~240 chars/s: a fast model; ours renders at <= 12 fps


def answer(repeat: int) -> str:
    return "\n\n".join(TRICKY.replace("Streaming answer", f"Part {i}") for i in range(repeat)) + "\n"


def work(repeat: int) -> tuple[int, int, int]:
    """(chars handed to Markdown by us, by a naive re-render per frame, answer length)."""
    doc = answer(repeat)
    clock = FakeClock()
    live = LiveMarkdown(make_console(width=80, height=24), auto_refresh=False, clock=clock)
    naive = 0
    last_frame = float("-inf")
    seen = 0
    for delta in chunks(doc, DELTA_CHARS):
        live.feed(delta)
        seen += len(delta)
        # The naive approach re-renders everything so far, at the same frame rate.
        if clock() - last_frame >= 1 / 12:
            naive += seen
            last_frame = clock()
        clock.advance(DELTA_SECONDS)
    live.finish()
    naive += len(doc)
    # Every character is rendered exactly once as part of a completed block.
    assert live.stats.block_chars == len(doc)
    return live.stats.chars, naive, len(doc)


def test_render_work_is_linear_in_answer_length() -> None:
    ours_1, naive_1, len_1 = work(1)
    ours_4, naive_4, _ = work(4)
    ours_16, naive_16, len_16 = work(16)
    assert len_16 / len_1 > 15
    assert ours_4 / ours_1 < 6
    assert ours_16 / ours_1 < 24  # linear: ~16x for a 16x longer answer
    assert ours_16 / len_16 < 8  # a small constant factor per answer character
    # The same counter over a re-render-everything loop is quadratic.
    assert naive_16 / naive_1 > 100
