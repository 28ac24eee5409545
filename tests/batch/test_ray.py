"""`herald batch --ray` on a real two-node Ray cluster (head plus a second node, this machine).

The cluster (`raycluster.LocalCluster`) starts in the background when the batch tests begin
(conftest's `ray_cluster`) and is stopped when this module's tests end; it runs in process
sessions of its own, so other Ray processes on the machine are left alone.
Ray is an optional extra: without it these tests skip, unless HERALD_REQUIRE_RAY=1 (CI sets it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

from fakeprovider import Reply

from .conftest import RoutedProvider, child_env, prompts, provider_args, read_rows, run_batch, spawn_batch, write_input
from .raycluster import LocalCluster

REQUIRE_ENV = "HERALD_REQUIRE_RAY"
MISSING = "the Ray tests need the ray extra: pip install -e '.[ray]'"


@pytest.fixture(scope="module", autouse=True)
def _ray_extra_installed() -> None:
    """Skip without the extra; fail instead when the run requires these tests (CI)."""
    if importlib.util.find_spec("ray") is not None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {MISSING}", pytrace=False)
    pytest.skip(MISSING)


@pytest.fixture(scope="module")
def ray_env(ray_cluster: LocalCluster | None, _ray_extra_installed: None) -> dict[str, str]:
    """What the cluster and its drivers share: a token of their own (never ~/.ray's), no usage stats."""
    assert ray_cluster is not None
    return ray_cluster.env


@pytest.fixture(scope="module")
def cluster(ray_cluster: LocalCluster | None, _ray_extra_installed: None) -> Iterator[str]:
    """A head node and a second node, one CPU each, on this machine (see `raycluster`); yields the address.

    Stopped when this module's tests end (checking that no Ray process is left behind).
    """
    assert ray_cluster is not None
    try:
        yield ray_cluster.address()
    finally:
        ray_cluster.stop()


def test_a_batch_runs_on_both_nodes_and_resumes(
    cluster: str, ray_env: dict[str, str], routed: RoutedProvider, tmp_path: Path
) -> None:
    routed.default = Reply(text="from the cluster", chunk_chars=4, delay=0.01)
    routed.route("question 3", Reply(fault="http_error", status=400))
    source = write_input(tmp_path / "in.jsonl", prompts(40))
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), *provider_args(routed), "--ray", cluster, "--concurrency", "8",
            "--max-attempts", "2", "--json"]
    env = child_env(tmp_path, **ray_env)
    done = run_batch(args, cwd=tmp_path, env=env, timeout=180)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["completed"] == 39 and summary["failed"] == 1
    assert summary["backend"] == "Ray (2 workers on 2 nodes)"
    rows = read_rows(out)
    assert Counter(r["id"] for r in rows if r["status"] == "completed") == Counter(f"s{n}" for n in range(40) if n != 3)
    assert [(r["attempt"], r["status"]) for r in rows if r["id"] == "s3"] == [(1, "failed"), (2, "failed")]
    nodes = {r["worker"].split(":")[1] for r in rows}
    assert all(r["worker"].startswith("ray:") for r in rows) and len(nodes) == 2, Counter(r["worker"] for r in rows)  # both nodes ran samples
    good = next(r for r in rows if r["status"] == "completed")
    assert good["final_response"] == "from the cluster" and good["messages"][0]["role"] == "user"

    routed.requests.clear()
    again = run_batch(args, cwd=tmp_path, env=env, timeout=180)
    assert again.returncode == 1 and json.loads(again.stdout)["attempts"] == 0
    assert json.loads(again.stdout)["backend"] == "nothing to run"  # a finished batch needs no cluster
    assert routed.prompts_requested() == {}


def test_a_worker_that_dies_gives_its_samples_back(
    cluster: str, ray_env: dict[str, str], routed: RoutedProvider, tmp_path: Path
) -> None:
    routed.default = Reply(text="still answered", chunk_chars=2, delay=0.05)  # about 0.4 s a sample
    source = write_input(tmp_path / "in.jsonl", prompts(60))
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), *provider_args(routed), "--ray", cluster, "--concurrency", "4", "--json"]
    child = spawn_batch(args, cwd=tmp_path, env=child_env(tmp_path, **ray_env))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out.exists() and out.read_bytes().count(b"\n") >= 4):
            time.sleep(0.05)
        victim = int(read_rows(out)[0]["worker"].rsplit(":", 1)[1])
        os.kill(victim, signal.SIGKILL)  # the worker process dies with samples in flight
        routed.default = Reply(text="still answered")  # the rest need no pacing: they only have to finish
        stdout, stderr = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, stderr
    assert json.loads(stdout)["completed"] == 60
    rows = read_rows(out)
    assert Counter(r["id"] for r in rows if r["status"] == "completed") == Counter(f"s{n}" for n in range(60))
    assert len({r["worker"] for r in rows}) == 2 and "a Ray worker failed" in stderr
