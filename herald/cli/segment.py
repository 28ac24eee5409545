"""What one model call printed on the terminal, and taking it back while it is still on screen.

When a stream fails and a fallback replaces it, the rows the abandoned stream printed are
void. A terminal only lets the cursor move up within the screen: rows that scrolled into the
scrollback stay. Which rows those are follows from two counts, whatever row the output
started on: if the cursor ever went `reach` rows below the segment's first row, on a screen
of `height` rows, then exactly `max(0, reach - height + 1)` of the first rows scrolled off
(the screen scrolls only once the cursor passes its last row, and a row that scrolled off
never comes back). The rest are erased in place, one row at a time: at most a screenful.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.control import Control
from rich.segment import ControlType


class PrintedRows(Protocol):
    """A live stream's row counts (see `herald.cli.live.LiveStream`)."""

    @property
    def rows_printed(self) -> int: ...

    @property
    def reach(self) -> int: ...


class ScreenSegment:
    """Rows printed since a model call began: section lines, reasoning, the answer.

    Args:
        section: the display's last section when the segment began, restored on take-back
            so spacing comes out as if the abandoned rows had never been printed.
    """

    def __init__(self, section: str | None = None) -> None:
        self.section = section
        self.rows = 0
        self.reach = 0

    def printed(self, rows: int) -> None:
        """Account for `rows` rows printed by the display itself (a blank line, a marker)."""
        self.rows += rows
        self.reach = max(self.reach, self.rows)

    def add_stream(self, stream: PrintedRows) -> None:
        """Account for a closed live stream that started at the current row."""
        self.reach = max(self.reach, self.rows + stream.reach)
        self.rows += stream.rows_printed

    def scrolled_off(self, height: int) -> int:
        """How many of the segment's first rows are beyond reach in the scrollback."""
        return min(self.rows, max(0, self.reach - height + 1))

    def take_back(self, console: Console) -> bool:
        """Erase the segment's rows still on screen; True when some had scrolled off.

        The cursor must be just below the segment's last row (no live region running).
        """
        gone = self.scrolled_off(console.size.height)
        visible = self.rows - gone
        if visible:
            console.control(
                Control(ControlType.CARRIAGE_RETURN, *[(ControlType.CURSOR_UP, 1), (ControlType.ERASE_IN_LINE, 2)] * visible)
            )
        self.rows = self.reach = 0
        return gone > 0


__all__ = ["PrintedRows", "ScreenSegment"]
