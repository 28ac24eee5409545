"""Block splitting: completed blocks only, nothing lost, fences respected."""

from __future__ import annotations

import pytest

from herald.cli.markdown_stream import MarkdownBlockSplitter

from .docs import ALL_DOCS, NESTED, TRICKY, chunks, random_chunks


def split(deltas: list[str]) -> tuple[list[str], str]:
    splitter = MarkdownBlockSplitter()
    blocks: list[str] = []
    for delta in deltas:
        blocks += splitter.feed(delta)
    return blocks, splitter.finish()


@pytest.mark.parametrize("doc", ALL_DOCS)
@pytest.mark.parametrize("size", [1, 2, 4, 7, 1000])
def test_blocks_do_not_depend_on_delta_boundaries(doc: str, size: int) -> None:
    blocks, rest = split(chunks(doc, size))
    assert "".join(blocks) + rest == doc
    assert (blocks, rest) == split([doc])


@pytest.mark.parametrize("seed", range(5))
def test_random_deltas(seed: int) -> None:
    for doc in ALL_DOCS:
        assert split(random_chunks(doc, seed)) == split([doc])


def find(blocks: list[str], prefix: str) -> str:
    """The block starting with ``prefix`` (leading blank lines ride along with a block)."""
    return next(b for b in blocks if b.lstrip("\n").startswith(prefix))


def test_tricky_blocks() -> None:
    blocks, rest = split([TRICKY])
    assert blocks[0] == "# Streaming answer\n"
    fence = find(blocks, "```python")
    assert fence.endswith("```\n") and "\n\n    return" in fence
    tilde = next(b for b in blocks if "tilde fence" in b)
    assert tilde.lstrip("\n").startswith("~~~\n") and tilde.endswith("~~~\n")
    # The loose list (blank lines between items) stays one block.
    lst = find(blocks, "1. first")
    assert "continued item" in lst and "3. third" in lst and "- bullet" in lst
    table = find(blocks, "| col a")
    assert table.strip("\n").count("\n") == 3 and table.endswith("\n\n")
    assert "---\n" in blocks
    # A paragraph followed directly by a fence is kept with it (not split mid-way).
    block = find(blocks, "Para right after a fence.\nIntro without blank:\n```js")
    assert block.endswith("```\n")
    assert rest == "Final **words**."


def test_fence_open_keeps_everything_in_tail() -> None:
    splitter = MarkdownBlockSplitter()
    assert splitter.feed("Text.\n\n") == ["Text.\n\n"]
    assert splitter.feed("```py\nx = 1\n\n\ny = 2\n") == []
    assert splitter.in_fence
    assert splitter.tail == "```py\nx = 1\n\n\ny = 2\n"
    assert splitter.feed("``") == []  # a closing fence still arriving
    assert splitter.feed("`\n") == ["```py\nx = 1\n\n\ny = 2\n```\n"]
    assert not splitter.in_fence


def test_fence_closing_rules() -> None:
    splitter = MarkdownBlockSplitter()
    # Shorter fence, other fence char, and info strings do not close.
    assert splitter.feed("````md\n```\n~~~~\n```` not-closing\n") == []
    assert splitter.feed("````\n") == ["````md\n```\n~~~~\n```` not-closing\n````\n"]
    # Backtick fence info may not contain backticks: this is inline code.
    assert splitter.feed("``` a`b\n\n") == ["``` a`b\n\n"]


def test_list_completes_only_when_a_paragraph_follows() -> None:
    splitter = MarkdownBlockSplitter()
    assert splitter.feed("- a\n- b\n\n") == []
    assert splitter.feed("  more b\n\n") == []
    assert splitter.feed("- c\n\n") == []
    assert splitter.feed("After") == []  # line not complete yet: could be "After" or "- ..."
    assert splitter.feed(".\n") == ["- a\n- b\n\n  more b\n\n- c\n\n"]
    assert splitter.finish() == "After.\n"


def test_nested_fence_in_list() -> None:
    blocks, rest = split([NESTED])
    lst = find(blocks, "- install")
    assert "  herald --help\n  ```\n" in lst and "lazily continued" in lst
    # Indented code followed directly by text stays one (unfinished) block.
    assert rest == "    indented code\n\n    more indented code\nTrailing paragraph.\n"


def test_headings_and_rules_complete_at_end_of_line() -> None:
    splitter = MarkdownBlockSplitter()
    assert splitter.feed("## Title") == []
    assert splitter.feed("\n") == ["## Title\n"]
    assert splitter.feed("***\n") == ["***\n"]
    # Setext underline after a paragraph is not a rule: keep the paragraph open.
    assert splitter.feed("Title\n---\n") == []
    assert splitter.feed("\n") == ["Title\n---\n\n"]


def test_raw_html_block_survives_blank_lines() -> None:
    splitter = MarkdownBlockSplitter()
    assert splitter.feed("<pre>\na\n\nb\n") == []
    assert splitter.feed("</pre>\n\n") == ["<pre>\na\n\nb\n</pre>\n\n"]


def test_preview_is_bounded_and_keeps_fence_opening() -> None:
    splitter = MarkdownBlockSplitter()
    splitter.feed("```python\n" + "".join(f"line {i}\n" for i in range(1000)) + "partial")
    preview = splitter.preview(max_lines=5, max_chars=10_000)
    assert preview == "```python\nline 996\nline 997\nline 998\nline 999\npartial"
    assert len(splitter.preview(max_lines=50, max_chars=20)) <= 20 + len("```python\n")
    long_line = MarkdownBlockSplitter()
    long_line.feed("x" * 100_000)
    assert long_line.preview(10, 300) == "x" * 300
