"""Keep the terminal from echoing keys into a live region.

rich's Live repaints by moving the cursor up a counted number of rows. Its lines are padded
to the full width, so the cursor waits in the last column; a key echoed there by the
terminal (Ctrl-C's "^C", type-ahead) wraps onto a new row, the count is then one short, and
the region's first line stays on screen when the final text is printed below it: the line
appears twice. With echo off while something is live, nothing but Herald writes there.
Typed keys are not lost: they wait in the terminal's input for the next prompt.
"""

from __future__ import annotations

import logging
import os
from typing import IO, Any

log = logging.getLogger(__name__)

try:
    import termios
except ImportError:  # not on POSIX: nothing to switch
    termios = None  # type: ignore[assignment]


class EchoGuard:
    """Switches the terminal's echo off (`off()`) and back as it was (`restore()`), idempotently.

    Does nothing when `stream` is not a terminal or the platform has no termios.
    """

    def __init__(self, stream: IO[Any] | Any) -> None:
        self._fd = _terminal_fd(stream)
        self._saved: list[Any] | None = None

    @property
    def active(self) -> bool:
        """True while echo is switched off by this guard."""
        return self._saved is not None

    def off(self) -> None:
        """Stop echoing keys (the first call saves the terminal's settings; later ones do nothing)."""
        if self._fd is None or self._saved is not None or termios is None:
            return
        try:
            saved = termios.tcgetattr(self._fd)
            quiet = list(saved)
            quiet[3] = saved[3] & ~(termios.ECHO | termios.ECHONL)
            # TCSANOW, not TCSAFLUSH: keys typed ahead stay queued for the next prompt.
            termios.tcsetattr(self._fd, termios.TCSANOW, quiet)
        except (termios.error, OSError, ValueError):
            log.debug("could not switch terminal echo off", exc_info=True)
            return
        self._saved = saved

    def restore(self) -> None:
        """Put back the settings saved by `off` (nothing to do when echo was not switched off)."""
        saved, self._saved = self._saved, None
        if saved is None or self._fd is None or termios is None:
            return
        try:
            termios.tcsetattr(self._fd, termios.TCSANOW, saved)
        except (termios.error, OSError, ValueError):
            log.debug("could not restore terminal echo", exc_info=True)


def _terminal_fd(stream: Any) -> int | None:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # StringIO and other files without a descriptor
    try:
        return fd if os.isatty(fd) else None
    except OSError:
        return None


__all__ = ["EchoGuard"]
