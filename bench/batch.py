"""Section 10: `herald batch` throughput vs the design it replaces (a pool of 4 sync agents).

Short answers (8 chunks, 50 ms apart: about 0.4 s on the wire, like a quick real answer)
from the loopback slow-stream server (`bench.slow_server`) in its own process. Herald: the real `herald batch`
command in a child process at concurrency 64, 256 and 1,024, rate from its own summary
(samples finished per second of the run, rows fsynced). Baseline: a process pool of 4
processes with one synchronous `AIAgent` each, streaming like Herald, rate = samples / wall
after the pool and its agents are up. Both read the same answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.servers import _env_with_root
from bench.slow_server import WORD, slow_server_process
from bench.table import Row

SECTION = "10 batch throughput"
CHUNKS, INTERVAL_MS = 8, 50
ANSWER = WORD * CHUNKS
POOL_PROCESSES = 4
TARGET_RATIO = 10.0
TARGET_AT = 256
MODEL, KEY = "bench/model", "sk-bench-batch"


def run(quick: bool) -> list[Row]:
    levels = (4, 16) if quick else (64, TARGET_AT, 1024)
    pool_samples = 8 if quick else 160
    with slow_server_process(CHUNKS, INTERVAL_MS / 5 if quick else INTERVAL_MS) as base_url, tempfile.TemporaryDirectory(prefix="herald-bench-batch-") as work:
        baseline = pool_rate(base_url, pool_samples)
        rates = {level: herald_rate(base_url, level, Path(work), samples=_samples(level, quick)) for level in levels}
    judged = TARGET_AT if not quick else levels[-1]
    rows = []
    for level, rate in rates.items():
        ratio = rate / baseline if baseline else 0.0
        target = f"≥ {TARGET_RATIO:.0f}×" if level == judged else "—"
        rows.append(Row(
            SECTION, f"samples/s, short answers, concurrency {level:,}", f"{rate:.1f}/s",
            f"{baseline:.1f}/s ({POOL_PROCESSES} processes × sync agent)", f"{ratio:.1f}×", target,
            ratio >= TARGET_RATIO if level == judged else None,
        ))
    return rows


def _samples(level: int, quick: bool) -> int:
    return 2 * level if quick else max(3 * level, 600)


# ── Herald: the real command ────────────────────────────────────────────


def herald_rate(base_url: str, concurrency: int, work: Path, *, samples: int) -> float:
    """Samples per second of one `herald batch` run (from its --json summary)."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"c{concurrency}-", dir=work))
    source = run_dir / "in.jsonl"
    source.write_text("".join(json.dumps({"id": n, "prompt": f"question {n}"}) + "\n" for n in range(samples)))
    env = {**_env_with_root(), "HERALD_HOME": str(run_dir / "home")}
    command = [
        sys.executable, "-m", "herald", "batch", str(source), "-o", str(run_dir / "out.jsonl"),
        "--base-url", base_url, "--api-key", KEY, "--model", MODEL, "--concurrency", str(concurrency), "--json",
    ]
    done = subprocess.run(command, cwd=run_dir, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"herald batch exited {done.returncode}: {done.stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    rows = [json.loads(line) for line in (run_dir / "out.jsonl").read_text().splitlines()]
    if summary["completed"] != samples or any(row["final_response"] != ANSWER for row in rows):
        raise AssertionError("herald batch did not read every answer whole")
    return float(summary["samples_per_s"])


# ── the baseline: a process pool of sync agents ─────────────────────────

_agent = None


def _start_agent(base_url: str) -> None:
    global _agent
    from herald.agent import AIAgent

    _agent = AIAgent(
        model=MODEL, base_url=base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
        persist_session=False, enabled_toolsets=[], stream_delta_callback=lambda text: None,
    )


def _ask(prompt: str) -> str:
    assert _agent is not None
    return _agent.run_conversation(prompt)["final_response"] or ""


def _warm(_: int) -> int:
    return os.getpid()


def pool_rate(base_url: str, samples: int) -> float:
    """Samples per second of 4 processes × one sync agent, after they are up."""
    with tempfile.TemporaryDirectory(prefix="herald-bench-pool-") as home:
        os.environ["HERALD_HOME"] = home  # the pool's children inherit it: nothing in the user's data
        with ProcessPoolExecutor(POOL_PROCESSES, initializer=_start_agent, initargs=(base_url,)) as pool:
            list(pool.map(_warm, range(POOL_PROCESSES * 4)))  # every process started, its agent built
            list(pool.map(_ask, [f"warm-up {n}" for n in range(POOL_PROCESSES)]))
            started = time.perf_counter()
            answers = list(pool.map(_ask, [f"question {n}" for n in range(samples)]))
            wall = time.perf_counter() - started
        del os.environ["HERALD_HOME"]
    if any(answer != ANSWER for answer in answers):
        raise AssertionError("the pool did not read every answer whole")
    return samples / wall
