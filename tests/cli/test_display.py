"""RichDisplay and PlainDisplay driven the way the agent drives them."""

from __future__ import annotations

import io
import threading

import pytest

from herald.cli.display import (
    INTERRUPTED_MARKER,
    RESET_MARKER,
    PlainDisplay,
    RichDisplay,
    StreamDisplay,
)
from herald.cli.markdown_render import HeraldMarkdown

from .conftest import FakeClock, make_console
from .docs import TRICKY, chunks
from .term import screen_lines

ANSWER = "Here is **the answer**:\n\n```py\nprint(1)\n\nprint(2)\n```\n\nAll done."
REASONING = "SECRET-THOUGHT one.\nSECRET-THOUGHT two, longer than the narrow width.\n"


def rendered(doc: str, width: int = 60) -> list[str]:
    console = make_console(width=width)
    console.print(HeraldMarkdown(doc))
    return screen_lines(console.file.getvalue())


def rich_display(clock: FakeClock, width: int = 60, show_reasoning: bool = True):
    console = make_console(width=width)
    display = RichDisplay(console, show_reasoning=show_reasoning, auto_refresh=False, clock=clock)
    return console, display


def screen(console) -> list[str]:
    return screen_lines(console.file.getvalue())


def test_both_displays_satisfy_the_protocol() -> None:
    assert isinstance(RichDisplay(make_console()), StreamDisplay)
    assert isinstance(PlainDisplay(io.StringIO(), io.StringIO()), StreamDisplay)


def feed(display: StreamDisplay, clock: FakeClock, text: str, size: int = 3, reasoning: bool = False) -> None:
    for delta in chunks(text, size):
        (display.on_reasoning if reasoning else display.on_text)(delta)
        clock.advance(0.02)


def test_full_turn_with_reasoning_and_tools(clock: FakeClock) -> None:
    console, display = rich_display(clock)
    display.begin_turn()
    display.on_first_delta()
    feed(display, clock, REASONING, reasoning=True)
    feed(display, clock, "Let me look.")
    display.on_tool_start("read_file", "path='x.py'")
    display.on_tool_end("read_file", 0.42, True)
    display.on_tool_start("grep", "pattern")
    display.on_tool_end("grep", 1.0, False, "no match")
    feed(display, clock, ANSWER)
    display.end_turn()
    lines = screen(console)
    assert lines[:2] == ["│ SECRET-THOUGHT one.", "│ SECRET-THOUGHT two, longer than the narrow width."]
    assert "Let me look." in lines
    assert "⚙ read_file path='x.py'" in lines
    assert "✓ read_file 0.4s" in lines
    assert "✗ grep 1.0s: no match" in lines
    assert lines[-len(rendered(ANSWER)) :] == rendered(ANSWER)
    assert not console._live_stack  # no Live left running


def test_reasoning_never_mixes_into_the_answer(clock: FakeClock) -> None:
    console, display = rich_display(clock, width=20)
    display.begin_turn()
    # Interleaved: reasoning, answer, reasoning again, answer again.
    feed(display, clock, REASONING, reasoning=True)
    feed(display, clock, "First part.")
    feed(display, clock, "SECRET-THOUGHT three.", reasoning=True)
    feed(display, clock, "Second part.")
    display.end_turn()
    for line in screen(console):
        if "SECRET" in line or "THOUGHT" in line:
            assert line.startswith("│ ")
        if "part" in line:
            assert not line.startswith("│")


def test_reasoning_hidden(clock: FakeClock) -> None:
    console, display = rich_display(clock, show_reasoning=False)
    display.begin_turn()
    feed(display, clock, REASONING, reasoning=True)
    feed(display, clock, ANSWER)
    display.end_turn()
    assert "SECRET" not in console.file.getvalue()
    assert screen(console) == rendered(ANSWER)


def test_stream_reset_shows_marker_then_answer_exactly_once(clock: FakeClock) -> None:
    console, display = rich_display(clock)
    display.begin_turn()
    display.on_first_delta()
    feed(display, clock, ANSWER[:45])  # first paragraph scrolled, code fence still open
    display.on_stream_reset()
    display.on_text(ANSWER)  # the complete answer as one delta
    display.end_turn()
    lines = screen(console)
    marker = lines.index(RESET_MARKER)
    assert lines[:marker] == ["Here is the answer:", ""]  # scrolled block stays; open tail dropped
    after = lines[marker + 1 :]
    assert after[after.index("Here is the answer:") :] == rendered(ANSWER)
    assert "\n".join(after).count("print(1)") == 1
    assert "\n".join(lines).count("print(1)") == 1  # abandoned tail not left on screen


def test_interrupted_turn_keeps_partial_text_and_marks_it(clock: FakeClock) -> None:
    console, display = rich_display(clock)
    display.begin_turn()
    feed(display, clock, "Partial answer with **bold")
    display.end_turn(interrupted=True)
    assert screen(console) == ["Partial answer with **bold", "", INTERRUPTED_MARKER]


def test_error_is_one_red_line(clock: FakeClock) -> None:
    console = make_console(color=True)
    display = RichDisplay(console, auto_refresh=False, clock=clock)
    display.begin_turn()
    display.error("connection [bold]reset[/]\nby peer")
    raw = console.file.getvalue()
    assert screen_lines(raw) == ["herald: error: connection [bold]reset[/] by peer"]
    assert "\x1b[1;31m" in raw  # bold red


def test_tool_line_truncated_to_width(clock: FakeClock) -> None:
    console, display = rich_display(clock, width=20)
    display.on_tool_start("search", "a very long preview\nwith newlines that goes on")
    assert screen(console)[-1] == "⠋ running search…"  # spinner while the tool runs
    display.close()
    assert screen(console) == ["⚙ search a very lon…"]


def test_narrow_terminal_whole_turn(clock: FakeClock) -> None:
    console, display = rich_display(clock, width=20)
    display.begin_turn()
    feed(display, clock, TRICKY, size=4)
    display.end_turn()
    assert screen(console) == rendered(TRICKY, width=20)


def test_callbacks_from_a_worker_thread() -> None:
    # Real refresh threads (spinner and live tail) racing a streaming worker.
    console = make_console()
    display = RichDisplay(console, refresh_per_second=200)
    display.begin_turn()

    def worker() -> None:
        display.on_first_delta()
        for delta in chunks(REASONING, 5):
            display.on_reasoning(delta)
        for delta in chunks(TRICKY, 3):
            display.on_text(delta)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    display.end_turn()
    lines = screen(console)
    assert lines[-len(rendered(TRICKY)) :] == rendered(TRICKY)
    assert not console._live_stack


# -- PlainDisplay ---------------------------------------------------------------


def plain(show_reasoning: bool = False) -> tuple[PlainDisplay, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return PlainDisplay(out=out, err=err, show_reasoning=show_reasoning), out, err


class FlushCounter(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


@pytest.mark.parametrize("show_reasoning", [False, True])
def test_plain_writes_text_byte_exact_without_ansi(show_reasoning: bool) -> None:
    display, out, err = plain(show_reasoning)
    display.begin_turn()
    display.on_first_delta()
    for delta in chunks(REASONING, 4):
        display.on_reasoning(delta)
    for delta in chunks(TRICKY, 4):
        display.on_text(delta)
    display.on_tool_start("read_file", "x.py")
    display.on_tool_end("read_file", 0.25, True)
    display.end_turn()
    assert out.getvalue() == TRICKY + "\n"  # only a final newline is added
    assert "SECRET" not in out.getvalue()
    assert ("SECRET" in err.getvalue()) is show_reasoning
    assert "\x1b" not in out.getvalue() + err.getvalue()
    assert err.getvalue().endswith("⚙ read_file x.py\n✓ read_file 0.2s\n")


def test_plain_flushes_every_delta() -> None:
    out = FlushCounter()
    display = PlainDisplay(out=out, err=io.StringIO())
    for delta in ["a", "b", "c"]:
        display.on_text(delta)
    assert out.flushes == 3 and out.getvalue() == "abc"


def test_plain_final_newline_optional() -> None:
    out = io.StringIO()
    display = PlainDisplay(out=out, err=io.StringIO(), final_newline=False)
    display.on_text("exact")
    display.end_turn()
    assert out.getvalue() == "exact"


def test_plain_stream_reset() -> None:
    display, out, err = plain()
    display.on_text("Partial ans")
    display.on_stream_reset()
    display.on_text(ANSWER)
    display.end_turn()
    # Bytes already piped cannot be taken back: marker on err, full answer after.
    assert out.getvalue() == "Partial ans\n" + ANSWER + "\n"
    assert err.getvalue() == RESET_MARKER + "\n"


def test_plain_interrupt_and_error() -> None:
    display, out, err = plain(show_reasoning=True)
    display.on_reasoning("thinking")
    display.on_text("half")
    display.end_turn(interrupted=True)
    display.error("boom\nagain")
    assert out.getvalue() == "half\n"
    assert err.getvalue() == f"thinking\n{INTERRUPTED_MARKER}\nherald: error: boom again\n"
