"""Visible attempts (issue 23, item 3): `--json` `attempt.failed` events as they happen, and
batch rows' `attempts`, over real HTTP from the attempt planner's `AttemptRecord`s."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from fakeprovider import FakeProvider, Reply
from herald.paths import config_dir

from .proc import herald_env, run_pipe

KEY = "sk-test-attempts-0123456789abcdef"
FALLBACK_KEY = "sk-fallback-attempts-cccccccc3333"


def events(stdout: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


def test_a_503_then_an_answer_is_one_attempt_failed_with_next_retry(fake: FakeProvider) -> None:
    fake.enqueue(Reply(fault="http_error", status=503, retry_after=0), Reply(text="recovered"))
    env = herald_env(HERALD_BASE_URL=fake.base_url, HERALD_API_KEY=KEY, HERALD_MODEL="fake-model")
    done = run_pipe("--json", "-q", "hi", env=env)
    assert done.returncode == 0, done.stderr
    seen = events(done.stdout)
    (failed,) = [e for e in seen if e["type"] == "attempt.failed"]
    assert failed["next"] == "retry" and failed["delay_s"] is not None and failed["status"] == 503
    assert failed["provider"] == f"fake-model via 127.0.0.1:{fake.port}" and failed["key"] == 0
    assert failed["error_type"] and "503" in failed["error"]
    # As it happened: before the answer's text, not gathered at the end.
    assert [e["type"] for e in seen].index("attempt.failed") < [e["type"] for e in seen].index("text.delta")
    assert seen[-1]["status"] == "completed" and seen[-1]["final_response"] == "recovered"
    assert KEY not in done.stdout.decode()


def test_a_dead_primary_is_one_attempt_failed_with_next_fallback_saying_refused(fake: FakeProvider, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]  # closed again: nothing listens there
    fake.default = Reply(text="from the fallback")
    home = tmp_path / "home"
    env = herald_env(
        HERALD_BASE_URL=f"http://127.0.0.1:{dead}/v1", HERALD_API_KEY=KEY, HERALD_MODEL="first-model", HERALD_HOME=str(home)
    )
    config = run_pipe("config", env=env).stdout.decode()
    path = Path(next(line for line in config.splitlines() if line.startswith("config file:")).split(": ", 1)[1].split(" (")[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[[fallback]]\nmodel = "second-model"\nbase_url = "{fake.base_url}"\napi_key = "{FALLBACK_KEY}"\n')
    done = run_pipe("--json", "-q", "hi", env=env)
    assert done.returncode == 0, done.stderr
    seen = events(done.stdout)
    failed = [e for e in seen if e["type"] == "attempt.failed"]
    assert failed and failed[-1]["next"] == "fallback"
    assert all("refused" in e["error"] and "timed out" not in e["error"] for e in failed)
    assert failed[-1]["provider"] == f"first-model via 127.0.0.1:{dead}"
    assert seen[-1]["status"] == "completed" and seen[-1]["final_response"] == "from the fallback"
    for key in (KEY, FALLBACK_KEY):
        assert key not in done.stdout.decode() + done.stderr.decode()
