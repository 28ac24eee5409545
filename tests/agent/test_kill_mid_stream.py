"""kill -9 while an answer streams loses no message already saved."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald.sessions import SessionStore

ROOT = Path(__file__).resolve().parents[2]

# The child prints "streaming" on the first text delta after its tool ran, then keeps streaming.
SCRIPT = textwrap.dedent(
    """
    import sys
    from herald.agent import AIAgent

    state = {"tool_done": False, "told": False}

    def on_text(text):
        if state["tool_done"] and not state["told"]:
            state["told"] = True
            print("streaming", flush=True)

    def progress(event):
        if event.kind == "end":
            state["tool_done"] = True

    agent = AIAgent(model="test/model", base_url=sys.argv[1], api_key="sk-kill-stream-0000000000000",
                    skip_context_files=True, skip_memory=True, cwd=sys.argv[2],
                    stream_delta_callback=on_text, tool_progress_callback=progress)
    agent.run_conversation("list the files, then tell me a long story")
    """
)


def test_kill_during_a_stream_keeps_every_message_already_written(fake: FakeProvider, tmp_path: Path) -> None:
    fake.enqueue(
        Reply(text="Listing.", tool_calls=[ToolCallSpec("terminal", json.dumps({"command": "echo listed"}))]),
        Reply(text="A long story. " * 400, chunk_chars=4, delay=0.02),
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, fake.base_url, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "streaming"
        assert len(fake.requests) == 2 and fake.requests[1].stream
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with SessionStore() as store:
        (session,) = store.list_sessions()
        messages = store.load_messages(session.id)
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[0]["content"] == "list the files, then tell me a long story"
    assert messages[1]["tool_calls"][0]["function"]["name"] == "terminal"
    assert "listed" in messages[2]["content"]
