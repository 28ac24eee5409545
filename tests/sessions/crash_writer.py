"""Helper for the kill test: append messages forever, printing each seq once it is committed.

Usage: python crash_writer.py DB_PATH
Prints `session <id>` first, then `wrote <seq>` after every `append_message` returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

from herald.sessions import SessionStore


def main() -> None:
    store = SessionStore(Path(sys.argv[1]))
    session_id = store.create_session(model="test-model", base_url="http://localhost:1234/v1", cwd="/tmp")
    print(f"session {session_id}", flush=True)
    for i in range(1, 1_000_000):
        seq = store.append_message(session_id, {"role": "user" if i % 2 else "assistant", "content": f"message {i}"})
        print(f"wrote {seq}", flush=True)


if __name__ == "__main__":
    main()
