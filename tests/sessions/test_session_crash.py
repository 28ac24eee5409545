"""Killing the process mid-conversation loses no message that was reported as written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from herald.sessions import SessionStore

WRITER = Path(__file__).with_name("crash_writer.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
@pytest.mark.parametrize("kill_after", [1, 37, 400])
def test_sigkill_loses_nothing_committed(tmp_path: Path, kill_after: int) -> None:
    db = tmp_path / "sessions.db"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HERALD_HOME": str(tmp_path / "home")}
    with subprocess.Popen(
        [sys.executable, str(WRITER), str(db)], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("session "), first
        session_id = first.split()[1]
        reported: list[int] = []
        while len(reported) < kill_after:
            line = proc.stdout.readline()
            assert line.startswith("wrote "), f"writer died early: {line!r}"
            reported.append(int(line.split()[1]))
        # The writer keeps appending flat out, so the kill lands mid-transaction at a random point.
        proc.send_signal(signal.SIGKILL)
        # Lines already in the pipe were printed after their commit too: they count.
        reported += [int(line.split()[1]) for line in proc.stdout.read().splitlines() if line.startswith("wrote ")]
        assert proc.wait(timeout=10) == -signal.SIGKILL

    assert reported == list(range(1, len(reported) + 1))
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    with SessionStore(db) as store:
        messages = store.load_messages(session_id)
        info = store.get_session(session_id)
    # Everything reported is there, in order; at most one more (committed, not yet printed).
    assert len(reported) <= len(messages) <= len(reported) + 1
    for seq, message in zip(reported, messages):
        assert message["content"] == f"message {seq}"
    assert info.message_count == len(messages)
