"""Incremental splitting of streamed markdown into completed top-level blocks.

The splitter is fed text deltas and hands back chunks of markdown that are
*complete*: rendering each chunk on its own gives the same result as
rendering the whole document at once.  Everything that may still change
stays in the unfinished tail.

Cost model: each delta is scanned once (for newlines), each completed line
is classified once, and each character is joined into an emitted chunk once,
so the total work is O(n) in the answer length.  The tail is bounded by the
size of the current block.

The splitter is deliberately conservative: splitting where markdown would
not end a block corrupts the final screen, while keeping two blocks together
only delays a commit.  So whenever a line is ambiguous the block is kept
open.  Tables, like GFM, end at a blank line (rows after it are a new
paragraph in markdown too), while a list stays open across blank lines until
a non-indented, non-list line starts (or the stream ends).  Known limitations (acceptable for LLM output): link reference
definitions that appear *after* the block using them, and a fence that is
closed implicitly by its list item ending (the fence is then tracked until
an explicit closing line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MarkdownBlockSplitter"]

_FENCE_OPEN = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_HRULE = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
# HTML blocks that, unlike other HTML blocks, survive blank lines (CommonMark
# types 1 and 2), mapped to the text that ends them.
_RAW_HTML_OPEN = re.compile(
    r" {0,3}<(?:(?P<tag>pre|script|style|textarea)(?:[\s>]|$)|(?P<comment>!--))",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Fence:
    char: str  # "`" or "~"
    length: int  # closing fence must be at least this long
    indent: int  # columns before the opening fence
    line_index: int  # index of the opening line inside the current block
    nested: bool  # opened inside a list item (indentation is relative)


def _indent(line: str) -> int:
    """Columns of leading whitespace (tabs to the next multiple of 4)."""
    col = 0
    for ch in line:
        if ch == " ":
            col += 1
        elif ch == "\t":
            col += 4 - col % 4
        else:
            break
    return col


def tail_pieces(pieces: list[str], budget: int) -> tuple[list[str], int]:
    """The last `budget` characters of `"".join(pieces)`, as pieces in reverse order, and
    the budget left. Cost depends on the budget, not on how long the text is."""
    parts: list[str] = []
    for piece in reversed(pieces):
        if budget <= 0:
            break
        parts.append(piece[-budget:])
        budget -= len(piece)
    return parts, max(budget, 0)


class MarkdownBlockSplitter:
    """Feed markdown deltas, get back completed top-level blocks.

    ``feed(delta)`` returns the blocks completed by that delta (in order),
    ``finish()`` returns whatever is left (possibly ""), and ``tail`` /
    ``preview()`` expose the unfinished text for a live display.
    Concatenating every returned block and the final tail reproduces the
    input exactly.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []  # complete lines (with "\n") of the open block
        self._partial: list[str] = []  # pieces of the current, unterminated line
        self._partial_len = 0
        self._reset_block()

    # -- public API ---------------------------------------------------------

    def feed(self, delta: str) -> list[str]:
        """Add ``delta``; return the blocks it completed."""
        done: list[str] = []
        if not delta:
            return done
        # Only the delta is searched for newlines: the partial line collected
        # so far is never rescanned, which keeps long lines linear too.
        pieces = delta.split("\n")
        for piece in pieces[:-1]:
            self._partial.append(piece)
            line = "".join(self._partial) + "\n"
            self._partial.clear()
            self._partial_len = 0
            self._take_line(line, done)
        last = pieces[-1]
        if last:
            self._partial.append(last)
            self._partial_len += len(last)
        return done

    def finish(self) -> str:
        """End of stream: return the unfinished tail (may be "") and reset."""
        rest = self.tail
        self._lines.clear()
        self._partial.clear()
        self._partial_len = 0
        self._reset_block()
        return rest

    @property
    def tail(self) -> str:
        """The whole unfinished text (O(size of the current block))."""
        return "".join(self._lines) + "".join(self._partial)

    @property
    def in_fence(self) -> bool:
        """True while an opened code fence awaits its closing line."""
        return self._fence is not None

    def preview(self, max_lines: int, max_chars: int) -> str:
        """The end of the tail, bounded by ``max_lines`` and ``max_chars``.

        Cheap (independent of the tail's size) so a live view can call it
        every frame.  If the window starts inside an open code fence, the
        fence's opening line is prepended so the preview still renders as
        code.
        """
        # The partial line, from its end.
        parts, budget = tail_pieces(self._partial, max_chars)
        lines_left = max_lines - (1 if self._partial else 0)
        first_index = len(self._lines)
        while first_index > 0 and lines_left > 0 and budget > 0:
            line = self._lines[first_index - 1]
            if len(line) > budget:
                parts.append(line[-budget:])
                budget = 0
            else:
                parts.append(line)
                budget -= len(line)
            first_index -= 1
            lines_left -= 1
        text = "".join(reversed(parts))
        fence = self._fence
        if fence is not None and fence.line_index < first_index:
            text = self._lines[fence.line_index] + text
        return text

    # -- line state machine -------------------------------------------------

    def _reset_block(self) -> None:
        self._has_content = False  # any non-blank line in the open block?
        self._fence: _Fence | None = None
        self._in_list = False  # block contains a list: blank lines don't end it
        self._indented_code = False  # block is an indented code block
        self._pending_blank = False  # blank line(s) seen in a list/indented block
        self._raw_html_end: str | None = None  # end marker of an open <pre>/<!-- block

    def _emit(self, done: list[str]) -> None:
        if self._lines:
            done.append("".join(self._lines))
            self._lines.clear()
        self._reset_block()

    def _take_line(self, line: str, done: list[str]) -> None:
        """Classify one complete line (ending in "\n") and update the block."""
        text = line.rstrip("\r\n")
        fence = self._fence
        if fence is not None:
            self._lines.append(line)
            if self._closes(fence, text):
                self._fence = None
                if not fence.nested and not self._in_list:
                    # A top-level fence ends a block (it can interrupt a
                    # paragraph, so nothing before it is still open).
                    self._emit(done)
            return

        if self._raw_html_end is not None:
            self._lines.append(line)
            if self._raw_html_end in text.lower():
                self._raw_html_end = None
            return

        blank = not text.strip()
        if blank:
            self._lines.append(line)
            if not self._has_content:
                return  # leading blank lines ride along with the next block
            if self._in_list or self._indented_code:
                # A list item or indented code may continue after blank lines;
                # decide when the next non-blank line arrives.
                self._pending_blank = True
            else:
                self._emit(done)
            return

        indent = _indent(text)
        if self._pending_blank:
            self._pending_blank = False
            if self._in_list:
                continues = indent > 0 or _LIST_ITEM.match(text) is not None
            else:
                continues = indent >= 4
            if not continues:
                self._emit(done)
                self._take_line(line, done)
                return

        if self._indented_code and indent < 4:
            # Indented code ended without a blank line; keep it together with
            # what follows (safe) and treat the block as ordinary text again.
            self._indented_code = False

        at_start = not self._has_content
        self._lines.append(line)
        self._has_content = True

        if at_start and indent >= 4:
            self._indented_code = True
            return
        if self._indented_code:
            return  # content of the indented code block

        stripped = text.lstrip(" \t")
        opened = self._open_fence(stripped, indent)
        if opened:
            return
        if _LIST_ITEM.match(text) and not (at_start and _HRULE.fullmatch(text)):
            self._in_list = True
            return
        if at_start and (_HEADING.match(text) or _HRULE.fullmatch(text)):
            # Single-line leaf blocks: complete as soon as their line ends.
            self._emit(done)
            return
        if at_start:
            match = _RAW_HTML_OPEN.match(text)
            if match:
                end = "-->" if match.group("comment") else f"</{match.group('tag').lower()}>"
                rest = text[match.end():].lower()
                if end not in rest:
                    self._raw_html_end = end

    def _open_fence(self, stripped: str, indent: int) -> bool:
        """Start tracking a fence if ``stripped`` opens one."""
        nested = self._in_list
        if indent > 3 and not nested:
            return False  # paragraph continuation text, not a fence
        match = _FENCE_OPEN.match(stripped)
        if match is None:
            return False
        marker = match.group("fence")
        if marker[0] == "`" and "`" in match.group("info"):
            return False  # backtick info strings may not contain backticks
        self._fence = _Fence(
            char=marker[0],
            length=len(marker),
            indent=indent,
            line_index=len(self._lines) - 1,
            nested=nested,
        )
        return True

    @staticmethod
    def _closes(fence: _Fence, text: str) -> bool:
        """Is ``text`` a closing line for ``fence``?"""
        body = text.strip()
        if len(body) < fence.length or body.strip(fence.char):
            return False
        limit = fence.indent + 3 if fence.nested else 3
        return _indent(text) <= limit
