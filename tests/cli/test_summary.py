"""The turn summary: timing from the display's side, usage from the result, the footer line."""

from __future__ import annotations

import io

import pytest

from fakeprovider import FakeProvider, Reply
from herald.cli import cli
from herald.cli.display import PlainDisplay, RichDisplay
from herald.cli.summary import TurnSummary, TurnTimer, footer_text, summarize, usage_text

from .conftest import FakeClock, make_console
from .term import screen_lines

USAGE = {"input_tokens": 1234, "output_tokens": 56, "cached_input_tokens": 1000, "reasoning_tokens": 20}


def timed_turn(clock: FakeClock, *, tool: bool = False, reset: bool = False) -> TurnTimer:
    timer = TurnTimer(clock)
    timer.start()
    clock.advance(0.4)
    timer.first_delta()  # first token 0.4 s after the start
    clock.advance(1.0)
    if tool:
        timer.call_ended()
        clock.advance(5.0)  # the tool runs: not streaming time
        timer.tool_ended()
        clock.advance(0.3)
        timer.first_delta()
        clock.advance(0.7)
    if reset:
        timer.stream_reset()
        clock.advance(2.0)
        timer.first_delta()
    timer.call_ended()
    return timer


def test_time_to_first_token_and_speed(clock: FakeClock) -> None:
    summary = summarize({"completed": True, "final_response": "x", "usage": USAGE}, timed_turn(clock))
    assert summary.first_token_s == pytest.approx(0.4)
    assert summary.tokens_per_s == pytest.approx(56 / 1.0)
    assert footer_text(summary) == "1,234 in (1,000 cached) · 56 out (20 reasoning) · first token 0.40s · 56.0 tok/s"


def test_tool_time_is_not_streaming_time(clock: FakeClock) -> None:
    timer = timed_turn(clock, tool=True)
    assert timer.streaming_s == pytest.approx(1.0 + 0.7)  # each call from its first delta to its end
    assert timer.first_token_s == pytest.approx(0.4)


def test_no_speed_after_a_fallback(clock: FakeClock) -> None:
    result = {"completed": True, "final_response": "x", "usage": USAGE, "fallback_reason": "IncompleteStream: cut"}
    summary = summarize(result, timed_turn(clock, reset=True))
    assert summary.tokens_per_s is None
    assert footer_text(summary).endswith("first token 0.40s · fell back: IncompleteStream: cut")


def test_nothing_streamed_means_no_timing(clock: FakeClock) -> None:
    timer = TurnTimer(clock)
    timer.start()
    clock.advance(2.0)
    timer.call_ended()
    summary = summarize({"completed": True, "usage": {"input_tokens": 3, "output_tokens": 4}}, timer)
    assert (summary.first_token_s, summary.tokens_per_s) == (None, None)
    assert footer_text(summary) == "3 in · 4 out"


@pytest.mark.parametrize(("result", "status"), [
    ({"completed": True}, "completed"),
    ({"interrupted": True}, "interrupted"),
    ({"failed": True, "error_type": "ProviderError"}, "failed"),
    ({}, "failed"),  # max_iterations without an answer
])
def test_status(result, status) -> None:
    summary = summarize(result, None, error="boom")
    assert summary.status == status
    assert (summary.error is not None) is (status == "failed")


def test_usage_text_leaves_out_unreported_details() -> None:
    assert usage_text(None) == ""
    assert usage_text({"input_tokens": 5, "output_tokens": 1, "cached_input_tokens": None, "reasoning_tokens": 0}) == "5 in · 1 out"


def test_footer_is_one_dim_line_truncated_to_the_width(clock: FakeClock) -> None:
    console = make_console(width=40, color=True)
    display = RichDisplay(console, auto_refresh=False, clock=clock)
    display.begin_turn()
    display.on_text("Answer.")
    display.end_turn()
    display.on_turn_complete(TurnSummary("completed", "Answer.", USAGE, fallback_reason="X: " + "long " * 20))
    raw = console.file.getvalue()
    lines = screen_lines(raw)
    assert lines[:2] == ["Answer.", ""]
    assert lines[2].startswith("1,234 in (1,000 cached) · 56 out") and lines[2].endswith("…") and len(lines) == 3
    assert "\x1b[2m" in raw  # dim


def test_no_footer_for_a_failed_turn_or_in_a_pipe(clock: FakeClock) -> None:
    console = make_console()
    display = RichDisplay(console, auto_refresh=False, clock=clock)
    display.begin_turn()
    display.error("it broke")
    display.on_turn_complete(TurnSummary("failed", None, USAGE, error="it broke"))
    assert screen_lines(console.file.getvalue()) == ["herald: error: it broke"]
    out, err = io.StringIO(), io.StringIO()
    plain = PlainDisplay(out, err)
    plain.on_text("Answer.")
    plain.end_turn()
    plain.on_turn_complete(TurnSummary("completed", "Answer.", USAGE, first_token_s=0.1))
    assert (out.getvalue(), err.getvalue()) == ("Answer.\n", "")


def test_sessions_show_lists_usage_per_answer_and_in_total(fake: FakeProvider, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HERALD_BASE_URL", fake.base_url)
    monkeypatch.setenv("HERALD_API_KEY", "k")
    fake.enqueue(Reply(text="First.", usage=(100, 7), cached_tokens=60))
    assert cli(["-q", "one"]) == 0
    capsys.readouterr()
    assert cli(["sessions", "list"]) == 0
    session_id = capsys.readouterr().out.split()[0]
    fake.enqueue(Reply(text="Second.", usage=(120, 9), reasoning_tokens=4))
    assert cli(["--resume", session_id, "-q", "two"]) == 0
    capsys.readouterr()
    assert cli(["sessions", "show", session_id]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert "assistant: First. [100 in (60 cached) · 7 out]" in shown
    assert "assistant: Second. [120 in · 9 out (4 reasoning)]" in shown
    assert shown[-1] == "usage: 220 in (60 cached) · 16 out (4 reasoning) over 2 answers"
