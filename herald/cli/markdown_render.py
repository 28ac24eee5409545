"""Herald's rich ``Markdown`` renderable for streamed answers.

A subclass (instead of tweaking rich globals) so the CLI's choices stay local:
the code theme and the spacing information the block-by-block renderer
needs to reproduce rich's own spacing between top-level elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it.token import Token
from rich.markdown import Markdown, UnknownElement

__all__ = ["CODE_THEME", "BlockSpacing", "HeraldMarkdown"]

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


class HeraldMarkdown(Markdown):
    """``rich.markdown.Markdown`` with Herald's defaults and spacing info."""

    def __init__(self, markup: str, *, code_theme: str = CODE_THEME) -> None:
        super().__init__(markup, code_theme=code_theme)

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
