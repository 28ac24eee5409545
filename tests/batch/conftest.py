"""Batch test support: a fake provider that answers per sample, and ways to run `herald batch`.

Samples run concurrently, so one FIFO queue cannot say which sample gets which reply.
`RoutedProvider` (a real subclass of the fake provider) picks the reply by the request's
first user message, i.e. by the sample's prompt.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from fakeprovider import FakeProvider, RecordedRequest, Reply

from .raycluster import LocalCluster

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-batch-0123456789abcdef"


def first_user_text(body: Any) -> str | None:
    for message in (body or {}).get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


class RoutedProvider(FakeProvider):
    """The fake provider, answering each sample from its own script.

    `route(prompt, *replies)`: requests of the sample whose prompt is `prompt` get the
    replies in order, the last one repeating. `rule(n, body)`, when set, is asked next
    with the request's number (0-based, over all requests) and body, and may return a reply.
    Everything else gets `default`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._routes: dict[str, list[Reply]] = {}
        self._body = threading.local()  # the handler thread's current request
        self._count = 0
        self._handlers: set[threading.Thread] = set()  # one handler thread per connection
        self.rule: Callable[[int, Any], Reply | None] | None = None

    def route(self, prompt: str, *replies: Reply) -> None:
        with self._lock:
            self._routes[prompt] = list(replies)

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self._routes.clear()
            self._count = 0
            self._handlers.clear()
        self.rule = None

    def prompts_requested(self) -> Counter[str]:
        """How many requests each sample made (by prompt)."""
        with self._lock:
            return Counter(first_user_text(r.body) or "" for r in self.requests if r.method == "POST")

    def connections_used(self) -> int:
        """How many connections the requests came over (the server serves each in a thread of its own)."""
        with self._lock:
            return len(self._handlers)

    # The handler records a request, then takes its reply, in the same thread.
    def _record(self, request: RecordedRequest) -> None:
        self._body.value = request.body
        with self._lock:
            self._handlers.add(threading.current_thread())  # held, so no two connections share an identity
        super()._record(request)

    def _take_reply(self, *args: Any, **kwargs: Any) -> Reply | None:  # tolerant of the base's signature
        body = getattr(self._body, "value", None)
        prompt = first_user_text(body)
        with self._lock:
            number = self._count
            self._count += 1
            script = self._routes.get(prompt or "")
            if script:
                return script.pop(0) if len(script) > 1 else script[0]
        if self.rule is not None:
            reply = self.rule(number, body)
            if reply is not None:
                return reply
        return super()._take_reply(*args, **kwargs)


@pytest.fixture(scope="session")
def _routed() -> Iterator[RoutedProvider]:
    with RoutedProvider() as provider:
        yield provider


@pytest.fixture
def routed(_routed: RoutedProvider) -> Iterator[RoutedProvider]:
    """The routed provider, emptied for this test; answers "ok" unless told otherwise."""
    _routed.clear()
    _routed.default = Reply(text="ok")
    yield _routed
    _routed.clear()


@pytest.fixture(scope="session", autouse=True)
def ray_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster | None]:
    """The Ray tests' cluster, starting in the background as soon as the batch tests begin.

    None when no Ray test was collected or Ray is not installed (test_ray.py says what then).
    """
    wanted = any(item.path.name == "test_ray.py" for item in request.session.items)
    if not wanted or importlib.util.find_spec("ray") is None:
        yield None
        return
    cluster = LocalCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()  # already done by test_ray.py's module, unless it never ran


def write_input(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def prompts(n: int, prefix: str = "question") -> list[dict[str, Any]]:
    return [{"id": f"s{i}", "prompt": f"{prefix} {i}", "metadata": {"n": i}} for i in range(n)]


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def provider_args(provider: FakeProvider) -> list[str]:
    return ["--base-url", provider.base_url, "--api-key", KEY, "--model", "test/model"]


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), HERALD_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def spawn_batch(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`herald batch ARGS` in a child process (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "herald", "batch", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_batch(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herald", "batch", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
