"""Herald's rich ``Markdown`` renderable for streamed answers.

A subclass (instead of tweaking rich globals) so the CLI's choices stay local:
the code theme and the spacing information the block-by-block renderer
needs to reproduce rich's own spacing between top-level elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it.token import Token
from rich.markdown import Markdown, UnknownElement

__all__ = ["CODE_THEME", "BlockSpacing", "HeraldMarkdown", "visible_markup"]

CODE_THEME = "monokai"

# Token types that rich's renderer handles without touching its ``new_line``.
_NO_NEW_LINE_EFFECT = frozenset(
    {"text", "hardbreak", "softbreak", "link_open", "link_close", "html_inline"}
)


@dataclass(frozen=True, slots=True)
class BlockSpacing:
    """How a block rendered on its own relates to rich's whole-document spacing.

    rich puts a blank line before a top-level element when the element closed
    just before it (at any depth) has ``new_line`` set.  Rendered alone, a
    block only sees its own elements, so:

    - ``self_spaced``: the block's first element already decides its leading
      blank line by itself (it closed nested elements first: lists, tables,
      quotes), exactly as in the whole document.
    - ``blank_after``: the ``new_line`` state the block leaves behind, i.e.
      whether the *next* block needs a blank line before it.
    """

    has_elements: bool
    self_spaced: bool
    blank_after: bool


# The marker that opens a line (after blockquote marks and indentation): an ordered-list number,
# a bullet or a heading's hashes. Group 3 is the character a backslash goes before.
_MARKER = re.compile(r"^((?:[ \t]*>)*[ \t]*)(\d{1,9})?([.)]|[-*+]|#{1,6})(?=[ \t]|$)")


def _empty_blocks(tokens: list[Token]) -> list[int]:
    """Source lines that open a list item or a heading with no content (rich draws nothing for them)."""
    lines = []
    for token, following in zip(tokens, tokens[1:]):
        empty_item = token.type == "list_item_open" and following.type == "list_item_close"
        empty_heading = token.type == "heading_open" and following.type == "inline" and not following.content.strip()
        if (empty_item or empty_heading) and token.map is not None:
            lines.append(token.map[0])
    return lines


def visible_markup(markup: str, tokens: list[Token]) -> str:
    """``markup`` with the markers of empty list items and headings escaped, so they show as text.

    A model answering "1945." or "2." (or a lone "-", "*", "#") writes what markdown reads as an
    empty numbered item, bullet or heading, which rich renders as nothing at all: the answer
    would vanish. Escaped, the line is a paragraph that shows exactly what the model wrote.
    """
    lines = markup.split("\n")
    for number in _empty_blocks(tokens):
        if number < len(lines):
            lines[number] = _MARKER.sub(lambda m: f"{m[1]}{m[2] or ''}\\{m[3]}", lines[number], count=1)
    return "\n".join(lines)


class HeraldMarkdown(Markdown):
    """``rich.markdown.Markdown`` with Herald's defaults and spacing info.

    Whatever the text, something is shown: markup rich would render as nothing (an empty list
    item or heading, such as a bare "1945.") is shown as the text it is (see `visible_markup`).
    """

    def __init__(self, markup: str, *, code_theme: str = CODE_THEME) -> None:
        super().__init__(markup, code_theme=code_theme)
        for _ in range(3):  # an escaped marker may reveal a nested empty one ("- -"); rare, bounded
            if not _empty_blocks(self.parsed):
                break
            super().__init__(visible_markup(markup, self.parsed), code_theme=code_theme)
            markup = self.markup

    def spacing(self) -> BlockSpacing:
        """Replay rich's ``new_line`` bookkeeping over this block's tokens."""
        state: bool | None = None  # None: nothing has set new_line yet
        self_spaced: bool | None = None
        for token in self._flatten_tokens(self.parsed):
            effect = self._new_line_effect(token)
            if effect is None:
                continue
            if self_spaced is None and token.level == 0:
                # First top-level element: did something nested decide first?
                self_spaced = state is not None
            state = effect
        if self_spaced is None:
            return BlockSpacing(has_elements=False, self_spaced=False, blank_after=False)
        return BlockSpacing(has_elements=True, self_spaced=self_spaced, blank_after=bool(state))

    def _new_line_effect(self, token: Token) -> bool | None:
        """The ``new_line`` value rich assigns after ``token`` (None: untouched)."""
        if token.nesting == 1 or token.type in _NO_NEW_LINE_EFFECT:
            return None
        if token.tag in self.inlines and token.type not in ("fence", "code_block"):
            return None
        # A closing token sets the flag of the element its opener created.
        element = self.elements.get(token.type.replace("_close", "_open"), UnknownElement)
        return element.new_line
