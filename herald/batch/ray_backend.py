"""The same batch on a Ray cluster: shards of jobs to workers, outcomes streamed back.

Each worker is a Ray actor running the local executor (its own adaptive limit, time limits,
isolation) over its own `AsyncRunner` (one async agent per worker process). The driver
hands each worker shards of jobs and reads the outcomes back as they finish (a streaming
generator per shard); the driver alone writes the output, so resume works exactly as on
one machine. A worker that dies gives its unfinished jobs back: they run again elsewhere,
under the same attempt numbers.

Needs `pip install 'herald[ray]'`; every node must have Herald installed (the same version).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import os
from typing import Any, AsyncIterator, Callable

from herald.batch.agent import AgentConfig
from herald.batch.async_runner import AsyncRunner
from herald.batch.driver import JobQueue
from herald.batch.jobs import Job, Outcome
from herald.batch.limit import AdaptiveLimit
from herald.batch.runner import LocalExecutor
from herald.errors import ConfigError

log = logging.getLogger("herald.batch")

INSTALL_HINT = "--ray needs Ray: pip install 'herald[ray]'"
SHARDS_PER_WORKER = 2  # one running, one queued behind it, so a worker never idles between shards


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def require_ray() -> None:
    """Raises ConfigError (exit 2) with the install line when Ray is missing."""
    if not ray_available():
        raise ConfigError(INSTALL_HINT)


class BatchWorker:
    """A Ray actor (wrapped with `ray.remote` by `RayBackend`): runs shards of jobs here."""

    def __init__(self, config: AgentConfig, concurrency: int, time_limit: float | None) -> None:
        import ray

        context = ray.get_runtime_context()
        self._where = f"ray:{ray.util.get_node_ip_address()}/{context.get_node_id()[:8]}:{os.getpid()}"
        self._limit = AdaptiveLimit(concurrency)
        self._executor = LocalExecutor(AsyncRunner(config, concurrency=concurrency), self._limit, time_limit)

    async def run_shard(self, jobs: list[Job]) -> AsyncIterator[Outcome]:
        """Run `jobs` (sharing this worker's limit with its other shards); yield each outcome as it ends."""
        done: asyncio.Queue[Outcome] = asyncio.Queue()
        source = _ListSource(jobs)
        task = asyncio.create_task(self._executor.run(source, done.put_nowait))
        try:
            for _ in jobs:
                outcome = await done.get()
                outcome.worker = self._where
                yield outcome
            await task
        finally:
            task.cancel()

    def limits(self) -> tuple[int, int]:
        """(the lowest this worker's limit went, its limit now)."""
        return self._limit.lowest, self._limit.limit


class _ListSource:
    def __init__(self, jobs: list[Job]) -> None:
        self._jobs = list(reversed(jobs))

    async def get(self) -> Job | None:
        return self._jobs.pop() if self._jobs else None


class RayBackend:
    """Runs a batch's jobs on Ray workers spread over the cluster's nodes.

    Args:
        config: every sample's agent settings (sent to the workers; the key is not logged).
        address: "local" (start Ray in this process), "auto", or a cluster's "host:port".
        concurrency: samples at once across the cluster, split evenly over the workers.
        time_limit: seconds per attempt.
        workers: how many workers (default: one per alive node).
    """

    def __init__(
        self, config: AgentConfig, *, address: str, concurrency: int, time_limit: float | None, workers: int | None = None
    ) -> None:
        require_ray()
        import ray

        self._ray: Any = ray
        self._connect(address)
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        self.workers = workers or max(1, len(nodes))
        self.concurrency = concurrency
        self.per_worker = max(1, math.ceil(concurrency / self.workers))
        self.name = f"Ray ({self.workers} workers on {len(nodes)} nodes)"
        self._config = config
        self._time_limit = time_limit
        self._actors: list[Any] = []
        self._lowest = self._current = concurrency

    def _connect(self, address: str) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "configure_logging": True}
        try:
            if address == "local":
                ray.init(include_dashboard=False, **quiet)
            else:
                ray.init(address=address, **quiet)
        except ConnectionError as error:
            raise ConfigError(f"--ray {address}: cannot connect to a Ray cluster: {error}") from None

    @property
    def lowest_concurrency(self) -> int:
        return self._lowest

    @property
    def current_concurrency(self) -> int:
        return self._current

    async def run(self, jobs: JobQueue, emit: Callable[[Outcome], None]) -> None:
        self._actors = [self._start_worker(node) for node in self._placement()]
        failures: list[BaseException] = []
        async with asyncio.TaskGroup() as group:
            for actor in self._actors:
                for _ in range(SHARDS_PER_WORKER):
                    group.create_task(self._feed(actor, jobs, emit, failures))
        if failures and len(failures) == len(self._actors) * SHARDS_PER_WORKER:
            raise RuntimeError(f"every Ray worker failed; the last said: {failures[-1]}")
        await self._collect_limits()

    def _placement(self) -> list[str]:
        """A node id per worker, round robin over the alive nodes (Ray's SPREAD may stack them)."""
        nodes = sorted(node["NodeID"] for node in self._ray.nodes() if node.get("Alive"))
        return [nodes[i % len(nodes)] for i in range(self.workers)]

    def _start_worker(self, node_id: str) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # Not soft: a soft placement falls back to any node when the chosen one is busy starting
        # workers, and then the workers pile up on one node. A node that dies takes its worker
        # with it, and the driver hands that worker's samples to the others. num_cpus=0: workers
        # wait on the network, they do not compute, and must not queue behind CPU-bound tasks.
        placement = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
        remote = self._ray.remote(BatchWorker).options(num_cpus=0, scheduling_strategy=placement)
        return remote.remote(self._config, self.per_worker, self._time_limit)

    async def _feed(self, actor: Any, jobs: JobQueue, emit: Callable[[Outcome], None], failures: list[BaseException]) -> None:
        """Keep one worker busy with shards until the queue is empty or the worker dies."""
        while shard := await jobs.get_many(self.per_worker):
            pending = {(job.sample.key, job.attempt): job for job in shard}
            try:
                async for ref in actor.run_shard.options(num_returns="streaming").remote(shard):
                    outcome: Outcome = await ref
                    pending.pop((outcome.job.sample.key, outcome.job.attempt), None)
                    emit(outcome)
            except self._ray.exceptions.RayError as error:
                log.warning("a Ray worker failed (%s); its %d unfinished samples run again elsewhere", error, len(pending))
                for job in pending.values():
                    jobs.give_back(job)
                failures.append(error)
                return

    async def _collect_limits(self) -> None:
        """The workers' adaptive limits, added up (for the summary)."""
        lowest = current = 0
        for actor in self._actors:
            try:
                low, now = await actor.limits.remote()
            except self._ray.exceptions.RayError:
                continue
            lowest, current = lowest + low, current + now
        if current:
            self._lowest, self._current = min(lowest, self.concurrency), min(current, self.concurrency)

    async def aclose(self) -> None:
        for actor in self._actors:
            try:
                self._ray.kill(actor)  # stops whatever it still runs (after a Ctrl-C)
            except Exception:
                log.debug("could not kill a Ray worker", exc_info=True)
        self._actors.clear()
        self._ray.shutdown()
