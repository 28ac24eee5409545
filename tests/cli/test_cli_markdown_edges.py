"""Whatever the answer text, a terminal shows it: markdown a model writes that renders as nothing.

A bare "1945." is an empty numbered-list item to markdown, "-" an empty bullet, "#" an empty
heading: rich draws nothing for them, and the answer vanished behind its footer. These run the
real `herald -q` in a pseudo-terminal against the fake provider and read the replayed screen.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from fakeprovider import FakeProvider, Reply
from herald.cli.live import LiveMarkdown

from .proc import herald_env, screen, spawn

# (what the model answers, what the screen must show)
EDGES = [
    ("1945.", "1945."),
    ("2.", "2."),
    ("120.", "120."),
    ("1)", "1)"),
    ("-", "-"),
    ("*", "*"),
    ("#", "#"),
    ("===", "==="),
    ("```python\nprint(1945)", "print(1945)"),
]


def shown(text: str, *, chunk: int = 0) -> list[str]:
    """The lines LiveMarkdown prints for ``text`` fed whole (or in ``chunk``-sized deltas)."""
    out = io.StringIO()
    live = LiveMarkdown(Console(file=out, width=60, force_terminal=False, color_system=None), auto_refresh=False)
    live.start()
    for i in range(0, len(text), chunk or len(text) or 1):
        live.feed(text[i : i + (chunk or len(text))])
    live.finish()
    return [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(("answer", "expected"), EDGES)
def test_the_renderer_shows_every_edge_case(answer: str, expected: str) -> None:
    assert expected in [line.strip() for line in shown(answer)]
    assert expected in [line.strip() for line in shown(answer, chunk=1)]


def test_an_empty_item_after_a_list_still_shows_its_number() -> None:
    assert "2." in " ".join(shown("1. first\n2."))
    assert "1945." in " ".join(shown("The year:\n\n1945.\n\nThat year."))


@pytest.fixture
def env(fake: FakeProvider) -> dict[str, str]:
    return herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY="sk-test-key-0123456789abcdef", HERALD_MODEL="fake-model")


@pytest.mark.parametrize(("answer", "expected"), EDGES)
def test_a_terminal_shows_the_answer(fake: FakeProvider, env: dict[str, str], answer: str, expected: str) -> None:
    fake.enqueue(Reply(text=answer, chunk_chars=2))
    child = spawn("-q", "When did the war end?", env=env)
    output = child.read()
    child.close()
    lines = [line.strip() for line in screen(output)]
    assert child.exitstatus == 0, lines
    assert expected in lines, lines
