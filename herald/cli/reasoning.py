"""Live display of the model's reasoning: dim italic text behind a gutter.

Reasoning is shown as plain text (not markdown) so it can never be mistaken
for the answer: every line, wrapped ones included, starts with a dim "│ ".
It streams through the same ``LiveStream`` engine as the answer, split into
lines instead of markdown blocks.
"""

from __future__ import annotations

import time
from typing import Callable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from herald.cli.live import DEFAULT_FPS, LiveStream, RenderedBlock, RenderStats
from herald.cli.markdown_stream import tail_pieces

__all__ = ["Gutter", "LineSplitter", "LiveReasoning", "REASONING_STYLE"]

REASONING_STYLE = "dim italic"
GUTTER = "│ "


class LineSplitter:
    """Splits a stream at newlines; O(delta) per feed like the markdown splitter."""

    def __init__(self) -> None:
        self._partial: list[str] = []

    def feed(self, delta: str) -> list[str]:
        pieces = delta.split("\n")
        done: list[str] = []
        for piece in pieces[:-1]:
            self._partial.append(piece)
            done.append("".join(self._partial) + "\n")
            self._partial.clear()
        if pieces[-1]:
            self._partial.append(pieces[-1])
        return done

    def finish(self) -> str:
        rest = "".join(self._partial)
        self._partial.clear()
        return rest

    def preview(self, max_lines: int, max_chars: int) -> str:
        # Only the current line is unfinished; its end is what is visible.
        parts, _ = tail_pieces(self._partial, max_chars)
        return "".join(reversed(parts))


class Gutter:
    """Render ``renderable`` narrower, with ``prefix`` before every line."""

    def __init__(self, renderable: RenderableType, prefix: str = GUTTER, style: str = "dim") -> None:
        self.renderable = renderable
        self.prefix = prefix
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        prefix = Segment(self.prefix, Style.parse(self.style))
        width = max(1, options.max_width - len(self.prefix))
        for line in console.render_lines(self.renderable, options.update_width(width), pad=False):
            yield prefix
            yield from line
            yield Segment.line()


class LiveReasoning(LiveStream):
    """Streams reasoning text, line by line, dim and behind a gutter."""

    def __init__(
        self,
        console: Console,
        *,
        refresh_per_second: float = DEFAULT_FPS,
        auto_refresh: bool = True,
        clock: Callable[[], float] = time.monotonic,
        stats: RenderStats | None = None,
    ) -> None:
        super().__init__(
            console,
            LineSplitter(),
            refresh_per_second=refresh_per_second,
            auto_refresh=auto_refresh,
            clock=clock,
            stats=stats,
        )

    def make_block(self, text: str) -> RenderedBlock | None:
        line = text.rstrip("\n")
        return RenderedBlock(Gutter(Text(line, style=REASONING_STYLE)))
