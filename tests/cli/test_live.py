"""LiveMarkdown: the final screen equals a one-shot render; frames are bounded."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from herald.cli.live import LiveMarkdown
from herald.cli.markdown_render import HeraldMarkdown

from .conftest import FakeClock, make_console
from .docs import ALL_DOCS, TRICKY, chunks, random_chunks
from .term import screen_lines


def one_shot(doc: str, width: int = 60, color: bool = False) -> list[str]:
    console = make_console(width=width, color=color)
    console.print(HeraldMarkdown(doc))
    return screen_lines(console.file.getvalue())


def stream(
    deltas: list[str],
    console: Console,
    clock: FakeClock,
    step: float = 0.02,
) -> LiveMarkdown:
    live = LiveMarkdown(console, auto_refresh=False, clock=clock)
    for delta in deltas:
        live.feed(delta)
        clock.advance(step)
    live.finish()
    return live


def output(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


@pytest.mark.parametrize("doc", ALL_DOCS)
@pytest.mark.parametrize("size", [1, 3, 4, 50])
def test_final_screen_equals_one_shot_render(doc: str, size: int, clock: FakeClock) -> None:
    console = make_console()
    live = stream(chunks(doc, size), console, clock)
    assert screen_lines(output(console)) == one_shot(doc)
    assert live.stats.tail_renders > 0  # the tail really was shown live


@pytest.mark.parametrize("seed", range(4))
def test_random_splits_with_colour(seed: int, clock: FakeClock) -> None:
    console = make_console(color=True)
    stream(random_chunks(TRICKY, seed), console, clock)
    assert screen_lines(output(console)) == one_shot(TRICKY, color=True)


def test_awkward_split_points(clock: FakeClock) -> None:
    doc = "A **bold claim** here.\n\n```py\nx = 1\n\ny = 2\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\nEnd."
    cuts = ["A **bo", "ld cl", "aim** here.\n", "\n``", "`py\nx = 1\n", "\n", "y = 2\n`", "``\n\n| a |", " b |\n|---", "|---|\n| 1 | 2 |\n| 3", " | 4 |\n\nEnd."]
    assert "".join(cuts) == doc
    console = make_console()
    stream(cuts, console, clock)
    screen = screen_lines(output(console))
    assert screen == one_shot(doc)
    text = "\n".join(screen)
    # Each block exactly once; the code block complete (blank line included).
    for needle in ["A bold claim here.", " x = 1", " y = 2", " 1  2", " 3  4", "End."]:
        assert text.count(needle) == 1, needle
    code = screen.index(" x = 1")
    assert screen[code + 1 : code + 3] == ["", " y = 2"]


def test_narrow_terminal(clock: FakeClock) -> None:
    console = make_console(width=20)
    stream(chunks(TRICKY, 4), console, clock)
    screen = screen_lines(output(console))
    assert screen == one_shot(TRICKY, width=20)
    assert max(len(line) for line in screen) <= 20


def test_frames_are_bounded_by_the_clock(clock: FakeClock) -> None:
    console = make_console()
    live = LiveMarkdown(console, auto_refresh=False, clock=clock, refresh_per_second=10)
    deltas = chunks(TRICKY, 2)
    for delta in deltas:
        live.feed(delta)
        clock.advance(0.01)  # 100 deltas per second, 10 frames per second
    live.finish()
    frames_allowed = len(deltas) * 0.01 * 10 + 1
    printed_blocks = live.stats.block_renders
    # One frame per interval, plus the repaint that comes with each printed block.
    assert live.stats.tail_renders <= frames_allowed + printed_blocks
    assert live.stats.tail_renders < len(deltas) / 3


def test_tall_tail_shows_only_its_end(clock: FakeClock) -> None:
    height = 10
    console = make_console(height=height)
    live = LiveMarkdown(console, auto_refresh=False, clock=clock)
    body = "".join(f"line {i}\n" for i in range(200))
    live.feed("```text\n" + body)
    clock.advance(1)
    live.feed("line 200\n")  # frame: the fence is still open, all in the tail
    frame = screen_lines(output(console))
    assert len(frame) <= height - 1
    assert any("line 200" in line for line in frame)
    assert live.stats.tail_chars < 1000  # not the whole 2 KB tail
    live.feed("```\n")
    live.finish()
    screen = screen_lines(output(console))
    assert [line.strip() for line in screen[1:]] == [f"line {i}" for i in range(201)]


def test_finish_is_idempotent_and_feed_after_finish_fails(clock: FakeClock) -> None:
    console = make_console()
    live = LiveMarkdown(console, auto_refresh=False, clock=clock)
    live.feed("Hello *world*")
    live.finish()
    live.finish()
    assert screen_lines(output(console)) == ["Hello world"]
    raw = output(console)
    assert raw.rindex("\x1b[?25h") > raw.rindex("\x1b[?25l")  # cursor shown again
    with pytest.raises(RuntimeError):
        live.feed("more")


def test_abandon_drops_the_tail_but_keeps_scrolled_blocks(clock: FakeClock) -> None:
    console = make_console()
    live = LiveMarkdown(console, auto_refresh=False, clock=clock)
    live.feed("Done block.\n\nUnfinished ta")
    clock.advance(1)
    live.feed("il")
    assert live.abandon() == "Unfinished tail"
    assert screen_lines(output(console)) == ["Done block."]


def test_context_manager_finishes_on_error(clock: FakeClock) -> None:
    console = make_console()
    with pytest.raises(KeyboardInterrupt):
        with LiveMarkdown(console, auto_refresh=False, clock=clock) as live:
            live.feed("partial **answer")
            raise KeyboardInterrupt
    assert screen_lines(output(console)) == ["partial **answer"]
    assert not console._live_stack  # Live stopped


def test_auto_refresh_thread(clock: FakeClock) -> None:
    # The real refresh thread: results must be the same as the manual mode.
    console = make_console()
    live = LiveMarkdown(console, refresh_per_second=200)
    for delta in chunks(TRICKY, 3):
        live.feed(delta)
    live.finish()
    assert screen_lines(output(console)) == one_shot(TRICKY)


def test_plain_file_console_gets_blocks_only(clock: FakeClock) -> None:
    console = Console(file=io.StringIO(), width=60)
    stream(chunks(TRICKY, 4), console, clock)
    assert "\x1b" not in output(console)
    plain = Console(file=io.StringIO(), width=60)
    plain.print(HeraldMarkdown(TRICKY))
    assert output(console) == output(plain)

