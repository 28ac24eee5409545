"""`ServerLog`: one MCP server's log file, `<data dir>/logs/mcp-<name>.log`.

The server's stderr goes straight into it (the child writes the file itself), and Herald adds
its own lines about the server: started, failed, timed out, restarted. Neither reaches the
user's screen. Env and header values are never written here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

MAX_BYTES = 2 * 1024 * 1024  # past this, the log is rotated to `.1` when the server next starts


class ServerLog:
    """Append-only log of one server, opened on first use.

    Args:
        path: the log file (its directory is created on demand).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None

    def stream(self) -> TextIO:
        """The open file, for a child process's stderr."""
        if self._file is None or self._file.closed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._rotate()
            self._file = open(self.path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - kept open
        return self._file

    def note(self, text: str) -> None:
        """Add one line of Herald's own, timestamped. Never raises: logging must not break a call."""
        try:
            stream = self.stream()
            stream.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} herald: {text}\n")
            stream.flush()
        except OSError:
            pass

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _rotate(self) -> None:
        try:
            if self.path.stat().st_size > MAX_BYTES:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
        except OSError:
            pass
