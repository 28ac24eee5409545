"""What a person sees in a real terminal: in-place resets, Ctrl-C without duplicates, the footer.

Screens are replayed on a 100x40 emulated terminal that wraps lines and cannot move the
cursor into the scrollback (tests/cli/term.py), like the pseudo-terminal herald runs in.
"""

from __future__ import annotations

import re
import time

import pexpect
import pytest

from fakeprovider import FakeProvider, Reply
from herald.cli.display import INTERRUPTED_MARKER, RESET_MARKER

from .proc import ROWS, herald_env, screen, spawn

PROMPT = "›"
PARAGRAPHS = [
    "The first paragraph opens the answer and is finished before the cut.",
    "The second paragraph is where the stream is cut, halfway through it.",
    "The third paragraph closes the answer.",
]


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY="sk-test-key-0123456789abcdef", HERALD_MODEL="fake-model")


def run_to_end(*args: str, env: dict[str, str]) -> tuple[list[str], int]:
    child = spawn(*args, env=env)
    output = child.read()
    child.close()
    return screen(output), child.exitstatus


def test_a_cut_in_the_second_paragraph_leaves_each_paragraph_once(fake: FakeProvider, env: dict[str, str]) -> None:
    text = "\n\n".join(PARAGRAPHS)
    cut_at = len(PARAGRAPHS[0]) + 2 + len(PARAGRAPHS[1]) // 2
    fake.enqueue(Reply(text=text, fault="cut", fault_after=cut_at // 4, chunk_chars=4, delay=0.01, repeat=2))
    seen, status = run_to_end("-q", "three paragraphs", env=env)
    assert status == 0
    joined = "\n".join(seen)
    for paragraph in PARAGRAPHS:
        assert joined.count(paragraph) == 1, (paragraph, seen)
    assert joined.count("The second paragraph") == 1  # the abandoned half is gone too
    assert RESET_MARKER not in joined
    assert seen[: 5] == [PARAGRAPHS[0], "", PARAGRAPHS[1], "", PARAGRAPHS[2]]
    assert [r.stream for r in fake.requests] == [True, False]


def test_reasoning_is_replaced_in_place_too(fake: FakeProvider, env: dict[str, str]) -> None:
    reasoning = "Thinking line one.\nThinking line two.\n"
    fake.enqueue(Reply(text="\n\n".join(PARAGRAPHS), reasoning=reasoning, fault="cut", fault_after=20,
                       chunk_chars=4, delay=0.01, repeat=2))
    seen, status = run_to_end("-q", "think first", env=env)
    assert status == 0
    joined = "\n".join(seen)
    assert joined.count("Thinking line one.") == 1 and joined.count("Thinking line two.") == 1
    for paragraph in PARAGRAPHS:
        assert joined.count(paragraph) == 1


def test_text_already_scrolled_away_stays_and_is_marked(fake: FakeProvider, env: dict[str, str]) -> None:
    lines = [f"Row {i:02d} of a long answer." for i in range(70)]
    text = "\n\n".join(lines)
    # Cut after about 55 rows were printed: more than a 40-row screen holds.
    cut_at = sum(len(line) + 2 for line in lines[:28])
    fake.enqueue(Reply(text=text, fault="cut", fault_after=cut_at // 8, chunk_chars=8, delay=0.002, repeat=2))
    seen, status = run_to_end("-q", "long", env=env)
    assert status == 0
    marker = seen.index(RESET_MARKER)
    kept, after = seen[:marker], seen[marker + 1 :]
    assert kept and all(line.startswith("Row ") or not line for line in kept)
    # Only what had left the screen stays above the marker; below it, the complete answer.
    assert len(kept) <= 28 * 2 - (ROWS - 1) + 1
    assert [line for line in after if line.startswith("Row ")] == lines
    assert seen.count(lines[-1]) == 1


def test_ctrl_c_never_duplicates_a_line(fake: FakeProvider, env: dict[str, str]) -> None:
    # Distinct words, so a repeated line is visible; lines are padded to the full width,
    # which is where the terminal echoed "^C" and broke the repaint.
    words = "".join(f"w{i:03d} " for i in range(400))
    for attempt in range(4):
        fake.clear()
        fake.enqueue(Reply(text=words, delay=0.03, chunk_chars=10))
        child = spawn("-q", "count", env=env)
        log: list[str] = []
        child.logfile_read = _Collect(log)
        child.expect("w0[0-9][0-9] ")
        time.sleep(0.2 + 0.3 * attempt)
        child.send("typed ahead")  # keys typed while streaming must not be echoed over it
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130
        seen = screen("".join(log))
        shown = [line for line in seen if line.startswith("w")]
        words_shown = " ".join(shown).split()
        assert len(words_shown) == len(set(words_shown)), (attempt, seen)
        assert words_shown == [f"w{i:03d}" for i in range(len(words_shown))]
        assert seen[-1] == INTERRUPTED_MARKER
        assert "^C" not in "".join(seen) and "typed ahead" not in "".join(seen)


def test_ctrl_c_in_chat_never_duplicates_a_line(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="".join(f"c{i:03d} " for i in range(400)), delay=0.03, chunk_chars=10))
    child = spawn(env=env)
    log: list[str] = []
    child.logfile_read = _Collect(log)
    child.expect(PROMPT)
    child.send("go\r")
    child.expect("c0[2-9][0-9] ")
    child.sendintr()
    child.expect_exact(INTERRUPTED_MARKER, timeout=5)
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    seen = screen("".join(log))
    words = " ".join(line for line in seen if line.startswith("c")).split()
    assert words and len(words) == len(set(words)), seen


FOOTER = re.compile(
    r"^1,234 in \(1,000 cached\) · 56 out \(20 reasoning\) · first token (?P<ttft>\d+\.\d\d)s · (?P<rate>\d+\.\d) tok/s$"
)


def test_footer_shows_usage_time_to_first_token_and_speed(fake: FakeProvider, env: dict[str, str]) -> None:
    # 20 chunks 50 ms apart: about 1 s of streaming for 56 output tokens.
    fake.enqueue(Reply(text="A measured answer. " * 4, chunk_chars=4, delay=0.05, usage=(1234, 56),
                       cached_tokens=1000, reasoning_tokens=20))
    seen, status = run_to_end("-q", "measure", env=env)
    assert status == 0
    footer = FOOTER.match(seen[-1])
    assert footer, seen
    assert 0 <= float(footer["ttft"]) < 5
    # The stream took at least 19 intervals: the rate can only come out lower than 56/0.95.
    assert 10 < float(footer["rate"]) <= 59
    assert seen[-2] == ""


def test_footer_says_when_a_fallback_replaced_the_stream(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="Complete answer.", fault="malformed", fault_after=2, usage=(10, 5), repeat=2))
    seen, status = run_to_end("-q", "hi", env=env)
    assert status == 0
    assert seen[-1].startswith("10 in · 5 out · first token ")
    assert "fell back: " in seen[-1] and "tok/s" not in seen[-1]
    assert len(seen[-1]) <= 100


def test_usage_in_chat_totals_the_session(fake: FakeProvider, env: dict[str, str]) -> None:
    fake.enqueue(Reply(text="One.", usage=(100, 10)), Reply(text="Two.", usage=(150, 20), cached_tokens=90))
    child = spawn(env=env)
    child.expect(PROMPT)
    child.send("first\r")
    child.expect("100 in · 10 out")
    child.expect(PROMPT)
    child.send("second\r")
    child.expect("Two.")
    child.expect(PROMPT)
    child.send("/usage\r")
    child.expect(r"session: 2 answers · 250 in \(90 cached\) · 30 out")
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


class _Collect:
    """A pexpect log file that keeps everything the child wrote."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def write(self, data: str) -> None:
        self.into.append(data)

    def flush(self) -> None:
        pass
