"""Keys pressed while an answer streams: Ctrl-D stops it and leaves, as it does at the prompt.

Between prompts nobody reads the terminal: a Ctrl-D typed while an answer streams would sit
in the terminal's buffer and reach the next prompt late, with whatever was typed after it.
While a turn runs, `KeyWatch` reads the keys itself: the terminal is switched out of line
mode (no echo; Ctrl-C still raises SIGINT), Ctrl-D calls `on_eof`, and other typed text is
kept for the next prompt rather than sent.

Only a real terminal is watched; anything else (a pipe, a test's StringIO) is left alone.
"""

from __future__ import annotations

import os
import re
import select
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TextIO, TypeVar

T = TypeVar("T")

CTRL_D = 0x04
_PRINTABLE_FROM = 0x20
_ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)?")  # arrow keys and the like


class KeyWatch:
    """Watches the terminal's keys while `watching()` runs.

    Args:
        on_eof: called (on the watcher's thread) when Ctrl-D is pressed; typically
            `agent.interrupt`.
        stdin: the terminal (default: sys.stdin).
    """

    def __init__(self, on_eof: Callable[[], object], stdin: TextIO | None = None) -> None:
        self._on_eof = on_eof
        self._stdin = stdin if stdin is not None else sys.stdin
        self.eof = False
        """Ctrl-D was pressed during the last `watching()`."""
        self._typed = bytearray()
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None
        self._saved: Any = None

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Read keys while the block runs; the terminal is restored after it, whatever happens."""
        self.eof = False
        self._start()
        try:
            yield
        finally:
            self._stop()

    def take_typed(self) -> str:
        """Text typed while watching (printable characters only), for the next prompt; then forgotten."""
        text = _ESCAPE_SEQUENCE.sub("", self._typed.decode("utf-8", "ignore"))
        self._typed.clear()
        return "".join(ch for ch in text if ord(ch) >= _PRINTABLE_FROM and ch != "\x7f")

    def pausing(self, function: Callable[[T], Any]) -> Callable[[T], Any]:
        """`function`, with the watch paused while it runs (it reads the terminal itself:
        an approval question)."""

        def paused(argument: T) -> Any:
            running = self._thread is not None
            if running:
                self._stop()
            try:
                return function(argument)
            finally:
                if running:
                    self._start()

        return paused

    # ── internals ───────────────────────────────────────────────────────

    def _fd(self) -> int | None:
        try:
            fd = self._stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        return fd if os.isatty(fd) else None

    def _start(self) -> None:
        fd = self._fd()
        if fd is None or self._thread is not None:
            return
        import termios

        self._saved = termios.tcgetattr(fd)
        mode = termios.tcgetattr(fd)
        mode[3] &= ~(termios.ICANON | termios.ECHO)  # keys one by one, not echoed; ISIG stays on
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(fd, termios.TCSANOW, mode)
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._read, args=(fd, self._wake[0]), name="herald-keys", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        thread, wake, self._thread, self._wake = self._thread, self._wake, None, None
        if thread is None or wake is None:
            return
        os.write(wake[1], b"x")
        thread.join()
        for end in wake:
            os.close(end)
        fd = self._fd()
        if fd is not None and self._saved is not None:
            import termios

            # TCSANOW, not TCSAFLUSH: nothing typed is thrown away.
            termios.tcsetattr(fd, termios.TCSANOW, self._saved)

    def _read(self, fd: int, wake: int) -> None:
        while True:
            ready, _, _ = select.select([fd, wake], [], [])
            if wake in ready:
                return
            data = os.read(fd, 1024)
            if not data:
                return
            if CTRL_D in data:
                self._typed += data[: data.index(CTRL_D)]
                self.eof = True
                self._on_eof()
                return
            self._typed += data
