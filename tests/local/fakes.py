"""`FakeServer`: the server manager around a stand-in process."""

from __future__ import annotations

import sys
from pathlib import Path

from herald.local.server import LocalServer

FAKE_SERVER = Path(__file__).with_name("fake_server.py")


class FakeServer(LocalServer):
    """`LocalServer` running `fake_server.py` (or any command) instead of llama-cpp-python."""

    def __init__(self, *args: object, argv: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.argv = argv
        self.child_pid_file = Path(str(kwargs.get("log_path") or "grandchild")).with_name("grandchild.pid")

    def command(self) -> list[str]:
        if self.argv is not None:
            return self.argv
        return [sys.executable, str(FAKE_SERVER), str(self.port), str(self.child_pid_file), self.alias]
