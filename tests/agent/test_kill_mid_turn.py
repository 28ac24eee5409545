"""A conversation killed mid-turn loses nothing it had already said."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from fakeprovider import Reply, ToolCallSpec
from herald.sessions import SessionStore

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from herald.agent import AIAgent

    def progress(event):
        print(event.kind, event.name, flush=True)

    agent = AIAgent(model="test/model", base_url=sys.argv[1], api_key="sk-kill-test-0000000000000",
                    skip_context_files=True, skip_memory=True, cwd=sys.argv[2],
                    stream_delta_callback=lambda t: None, tool_progress_callback=progress)
    agent.run_conversation("please wait for a long time")
    """
)


def test_kill_during_a_tool_keeps_every_message_already_written(fake, tmp_path):
    fake.enqueue(Reply(text="Waiting now.", tool_calls=[ToolCallSpec("terminal", json.dumps({"command": "sleep 5"}))]))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, fake.base_url, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().split() == ["start", "terminal"]
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
        child.stdout.close()
    with SessionStore() as store:
        (session,) = store.list_sessions()
        messages = store.load_messages(session.id)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "please wait for a long time"
    assert messages[1]["content"] == "Waiting now."
    assert messages[1]["tool_calls"][0]["function"]["name"] == "terminal"
