"""A real `herald batch` process killed with SIGKILL (or stopped with Ctrl-C), then resumed."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from fakeprovider import Reply

from .conftest import RoutedProvider, child_env, prompts, provider_args, read_rows, run_batch, spawn_batch, write_input

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")

SAMPLES = 60


def wait_for_rows(path: Path, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            count = path.read_bytes().count(b"\n")
            if count >= at_least:
                return count
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} rows after {timeout} s")


def completed_ids(path: Path) -> Counter[str]:
    return Counter(row["id"] for row in read_rows(path) if row["status"] == "completed")


@pytest.mark.parametrize(("how", "expected"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)])
def test_stopped_mid_batch_then_resumed_runs_each_sample_to_exactly_one_completed_row(
    routed: RoutedProvider, tmp_path: Path, how: signal.Signals, expected: int
) -> None:
    # Slow streams (about 0.2 s each, 4 at a time) so the stop lands with samples in flight.
    routed.default = Reply(text="a short answer", chunk_chars=2, delay=0.03)
    routed.route("question 7", Reply(fault="http_error", status=400))  # one sample that always fails
    source = write_input(tmp_path / "in.jsonl", prompts(SAMPLES))
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), *provider_args(routed), "--concurrency", "4", "--max-attempts", "2", "--json"]
    env = child_env(tmp_path)

    child = spawn_batch(args, cwd=tmp_path, env=env)
    try:
        wait_for_rows(out, 12)
        child.send_signal(how)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == expected, stderr
    if how == signal.SIGINT:
        assert json.loads(stdout)["interrupted"] is True and "Traceback" not in stderr
        assert read_rows(out)  # every line whole: a clean stop leaves no torn line
    before = completed_ids(out)
    assert 0 < len(before) < SAMPLES and set(before.values()) == {1}

    routed.requests.clear()
    routed.default = Reply(text="a short answer")  # the resumed run needs nothing in flight to stop: no pacing
    resumed = run_batch(args, cwd=tmp_path, env=env)
    assert resumed.returncode == 1, resumed.stderr  # question 7 failed both attempts
    summary = json.loads(resumed.stdout)
    assert summary["completed"] == SAMPLES - 1 and summary["failed"] == 1 and summary["unfinished"] == 0

    rows = read_rows(out)  # no torn line anywhere: every line is a whole row
    after = completed_ids(out)
    assert set(after) == {f"s{n}" for n in range(SAMPLES)} - {"s7"}
    assert set(after.values()) == {1}  # exactly one completed row per good id
    asked = routed.prompts_requested()
    assert not any(asked[f"question {row['id'][1:]}"] for row in rows if row["id"] in before)  # nothing re-run
    attempts = Counter((row["id"], row["attempt"]) for row in rows)
    assert set(attempts.values()) == {1}  # no (id, attempt) written twice
    assert sorted(a for (i, a) in attempts if i == "s7") == [1, 2]
