"""Live terminal rendering of a streamed text, block by block.

Completed blocks are rendered once and printed to scrollback (above the live
region); only the unfinished tail lives in a ``rich.live.Live`` region and is
re-rendered at most once per frame.  The tail view is also bounded by the
screen: only the end of the tail that can be seen is rendered, so a frame
costs O(screen), not O(tail).  ``finish()`` prints the exact final tail.

A stream counts the rows it printed and how far below its start the cursor
ever went (``rows_printed``, ``reach``), so a display can tell which of its
rows are still on screen and take them back (see ``herald.cli.segment``).

``LiveStream`` is the generic engine; ``LiveMarkdown`` plugs in the markdown
block splitter and Herald's ``Markdown`` renderable.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.segment import Segment
from rich.text import Text

from herald.cli.markdown_render import CODE_THEME, HeraldMarkdown
from herald.cli.markdown_stream import MarkdownBlockSplitter

__all__ = ["BlockSplitter", "LiveMarkdown", "LiveStream", "RenderStats", "RenderedBlock"]

DEFAULT_FPS = 12.0


class BlockSplitter(Protocol):
    """What ``LiveStream`` needs from a splitter."""

    def feed(self, delta: str) -> list[str]: ...

    def finish(self) -> str: ...

    def preview(self, max_lines: int, max_chars: int) -> str: ...


@dataclass(frozen=True, slots=True)
class RenderedBlock:
    """A block turned into a renderable, with its spacing relative to others."""

    renderable: RenderableType
    self_spaced: bool = False  # decides its own leading blank line
    blank_after: bool = False  # the next block needs a blank line before it


@dataclass
class RenderStats:
    """Work counters: how much source text was turned into renderables."""

    block_renders: int = 0
    block_chars: int = 0
    tail_renders: int = 0
    tail_chars: int = 0

    @property
    def chars(self) -> int:
        """Total characters handed to the renderer (blocks + tail frames)."""
        return self.block_chars + self.tail_chars


class _TailView:
    """The Live region's renderable: the visible end of the unfinished tail.

    Rendered by Live (possibly on its refresh thread).  It must never take
    the display's locks; it only asks the stream for a snapshot.
    """

    def __init__(self, stream: LiveStream) -> None:
        self._stream = stream
        self._key: tuple[str, bool, int, int] | None = None
        self._lines: list[list[Segment]] = []
        self.closed = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.closed:
            return
        # Leave one row for the cursor so the region never scrolls the screen.
        height = max(1, console.size.height - 1)
        width = options.max_width
        text, space_before = self._stream.snapshot(height, width * height)
        if not text.strip():
            return
        key = (text, space_before, width, height)
        if key != self._key:
            block = self._stream.render_tail(text)
            lines = []
            if block is not None:
                lines = console.render_lines(
                    block.renderable, options.update(height=None), pad=False
                )
                if space_before and not block.self_spaced:
                    lines.insert(0, [])
            # Taller than the screen: show the end; finish() prints it all.
            self._lines = lines[-height:]
            self._key = key
        self._stream.note_tail_rows(len(self._lines))
        for line in self._lines:
            yield from line
            yield Segment.line()


class LiveStream:
    """Show a streamed text: completed blocks to scrollback, tail live.

    Not thread-safe for concurrent *callers* (the display serializes them),
    but safe against Live's own refresh thread reading the tail.
    """

    def __init__(
        self,
        console: Console,
        splitter: BlockSplitter,
        *,
        refresh_per_second: float = DEFAULT_FPS,
        auto_refresh: bool = True,
        clock: Callable[[], float] = time.monotonic,
        stats: RenderStats | None = None,
    ) -> None:
        self.console = console
        self.stats = stats if stats is not None else RenderStats()
        self._splitter = splitter
        self._fps = refresh_per_second
        self._interval = 1.0 / refresh_per_second
        self._auto_refresh = auto_refresh
        self._clock = clock
        # Guards splitter and spacing state against Live's refresh thread.
        self._lock = threading.RLock()
        self._live: Live | None = None
        self._view = _TailView(self)
        self._state = "new"  # "new" -> "live" -> "done"
        self._space_before = False  # a blank line is owed before the next block
        self._printed_any = False
        self._rows = 0  # rows printed to the console by this stream
        self._reach = 0  # furthest row below the start the cursor reached (tail included)
        self._dirty = False
        self._last_frame = float("-inf")

    # -- hooks for subclasses -------------------------------------------------

    def make_block(self, text: str) -> RenderedBlock | None:
        """Render a completed block (or the tail preview); None if it shows nothing."""
        return RenderedBlock(Text(text))

    # -- public API -----------------------------------------------------------

    @property
    def printed_any(self) -> bool:
        """True once something of this stream reached the scrollback."""
        return self._printed_any

    @property
    def is_live(self) -> bool:
        return self._state == "live"

    @property
    def rows_printed(self) -> int:
        """Rows this stream printed above its live region (its final rows once closed)."""
        with self._lock:
            return self._rows

    @property
    def reach(self) -> int:
        """How many rows below the stream's first row the cursor went, live region included.

        Rows scroll off the screen when this passes the terminal's height, even when the live
        region that pushed them is gone again.
        """
        with self._lock:
            return self._reach

    def start(self) -> None:
        """Start the live region (idempotent; ``feed`` starts it lazily)."""
        with self._lock:
            if self._state != "new":
                return
            self._state = "live"
        live = Live(
            self._view,
            console=self.console,
            auto_refresh=self._auto_refresh,
            refresh_per_second=self._fps,
            transient=True,  # the exact tail is printed by finish()
            redirect_stdout=False,
            redirect_stderr=False,
            vertical_overflow="crop",
        )
        self._live = live
        live.start()

    def feed(self, delta: str) -> None:
        """Add a delta: print the blocks it completes, schedule a tail frame."""
        if self._state == "new":
            self.start()
        if self._state != "live":
            raise RuntimeError("feed() after finish() or abandon()")
        with self._lock:
            blocks = self._splitter.feed(delta)
            self._dirty = True
        for block in blocks:
            self._print_block(block)
        if not self._auto_refresh:
            self._maybe_frame()

    def refresh(self) -> None:
        """Render a tail frame now if anything changed (manual-refresh mode)."""
        if self._state == "live" and self._dirty and self._live is not None:
            self._dirty = False
            self._last_frame = self._clock()
            self._live.refresh()

    def finish(self) -> None:
        """Stop the live region and print the exact remaining tail (idempotent)."""
        rest = self._close()
        if rest is not None and rest.strip():
            self._print_block(rest)

    def abandon(self) -> str:
        """Stop the live region and drop the tail; return the dropped text."""
        rest = self._close()
        return rest or ""

    def __enter__(self) -> LiveStream:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finish()

    # -- internals ------------------------------------------------------------

    def _close(self) -> str | None:
        """Mark done and stop Live; return the tail (None if already closed)."""
        with self._lock:
            if self._state == "done":
                return None
            self._state = "done"
            rest = self._splitter.finish()
        self._view.closed = True  # Live's last refresh then erases the region
        live, self._live = self._live, None
        if live is not None:
            live.stop()
        return rest

    def _maybe_frame(self) -> None:
        # Bounded frame rate: at most one tail render per interval, not per delta.
        if self._dirty and self._clock() - self._last_frame >= self._interval:
            self.refresh()

    def snapshot(self, max_lines: int, max_chars: int) -> tuple[str, bool]:
        with self._lock:
            return self._splitter.preview(max_lines, max_chars), self._space_before

    def render_tail(self, text: str) -> RenderedBlock | None:
        with self._lock:
            self.stats.tail_renders += 1
            self.stats.tail_chars += len(text)
        return self.make_block(text)

    def note_tail_rows(self, rows: int) -> None:
        # Called by the tail view on Live's thread: the cursor ends on the region's last row.
        if rows:
            with self._lock:
                self._reach = max(self._reach, self._rows + rows - 1)

    def _print_block(self, text: str) -> None:
        with self._lock:
            self.stats.block_renders += 1
            self.stats.block_chars += len(text)
        block = self.make_block(text)
        if block is None:
            return
        with self._lock:
            space_before, self._space_before = self._space_before, block.blank_after
        renderable = block.renderable
        if space_before and not block.self_spaced:
            renderable = Group(Text(), renderable)
        # Rendered once, here, so the rows are known before they are printed: the tail
        # repainted by the same print then counts from below them.
        lines = self.console.render_lines(renderable, self.console.options, pad=False)
        # One print per block: every print while live also repaints the tail.  Rich's Live
        # computes where its region starts under its lock but renders and writes the print
        # after releasing it, so a refresh on Live's thread could interleave and erase the
        # wrong number of rows.  Holding Live's (reentrant) lock for the count and the print
        # stops that, and keeps the row count equal to what is on the terminal whenever the
        # refresh thread measures the tail below it.
        live = self._live
        with live._lock if live is not None else nullcontext():
            with self._lock:
                self._rows += len(lines)
                self._reach = max(self._reach, self._rows)
            self.console.print(_Lines(lines))
        self._printed_any = True


class _Lines:
    """Lines rendered already, printed as they are."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()


class LiveMarkdown(LiveStream):
    """Live markdown rendering of a streamed answer."""

    def __init__(
        self,
        console: Console,
        *,
        code_theme: str = CODE_THEME,
        refresh_per_second: float = DEFAULT_FPS,
        auto_refresh: bool = True,
        clock: Callable[[], float] = time.monotonic,
        stats: RenderStats | None = None,
    ) -> None:
        super().__init__(
            console,
            MarkdownBlockSplitter(),
            refresh_per_second=refresh_per_second,
            auto_refresh=auto_refresh,
            clock=clock,
            stats=stats,
        )
        self._code_theme = code_theme

    def make_block(self, text: str) -> RenderedBlock | None:
        markdown = HeraldMarkdown(text, code_theme=self._code_theme)
        spacing = markdown.spacing()
        if not spacing.has_elements:
            return None
        return RenderedBlock(markdown, spacing.self_spaced, spacing.blank_after)
