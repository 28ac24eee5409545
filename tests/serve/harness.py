"""`herald serve` for tests: the real server (`run_worker`) in a thread, or the real command in a child process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from fakeprovider import FakeProvider
from herald.serve.app import UPSTREAMS, create_app
from herald.serve.config import ModelRoute, ServeConfig
from herald.serve.server import listen, run_worker, url_of

GATEWAY_KEY = "gw-client-key-0123"
PROVIDER_KEY = "sk-provider-SECRET-9876"
ROOT = Path(__file__).resolve().parents[2]

# Short limits: a stalled provider is left within a second or two.
LIMITS = {"stream_first_byte_timeout": 2.0, "stream_idle_timeout": 2.0, "request_timeout": 5.0, "max_retries": 1}


_SDK = TypeVar("_SDK")
_OPEN_SDKS: list[Any] = []


def opened(client: _SDK) -> _SDK:
    """`client` (an openai or anthropic SDK client), closed with its pooled connections when the
    test ends (`conftest._close_sdk_clients`): a client left to the garbage collector leaves an
    unclosed socket, which warnings-as-errors reports in whichever test runs then."""
    _OPEN_SDKS.append(client)
    return client


def close_sdk_clients() -> None:
    while _OPEN_SDKS:
        _OPEN_SDKS.pop().close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def routes(fake: FakeProvider) -> tuple[ModelRoute, ...]:
    """One public model per provider wire, one whose primary is down, and two that continue a cut
    answer from its prefix (`continuation = "prefill"`: the fake is no server "auto" knows)."""
    key = {"api_key": PROVIDER_KEY}
    prefill = {"continuation": "prefill"}
    return (
        ModelRoute("chat", ({"model": "gpt-fake", "base_url": fake.base_url, **key},)),
        ModelRoute("claude", ({"model": "claude-fake", "base_url": fake.anthropic_base_url, "api_mode": "anthropic_messages", **key},)),
        ModelRoute("responses", ({"model": "gpt-resp", "base_url": fake.base_url, "api_mode": "codex_responses", **key},)),
        ModelRoute("failover", (
            {"model": "dead", "base_url": f"http://127.0.0.1:{closed_port()}/v1", **key},
            {"model": "backup", "base_url": fake.anthropic_base_url, "api_mode": "anthropic_messages", **key},
        )),
        ModelRoute("chat-continues", ({"model": "gpt-fake", "base_url": fake.base_url, **key, **prefill},)),
        ModelRoute("claude-continues", (
            {"model": "claude-fake", "base_url": fake.anthropic_base_url, "api_mode": "anthropic_messages", **key, **prefill},
        )),
    )


def config_for(fake: FakeProvider, **changes: Any) -> ServeConfig:
    fake.api_key = PROVIDER_KEY
    values: dict[str, Any] = {
        "models": routes(fake), "port": 0, "keys": (GATEWAY_KEY,), "limits": dict(LIMITS), "shutdown_grace": 1.0
    }
    values.update(changes)
    return ServeConfig(**values)


@dataclass
class Running:
    """A gateway serving in a thread of this process."""

    url: str
    config: ServeConfig
    stop: Callable[[], None]
    """Begin shutdown, as SIGTERM does (returns at once; leaving the `with` block waits for the end)."""

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"


@contextmanager
def gateway_thread(config: ServeConfig) -> Iterator[Running]:
    """The real server in a thread. On the way out it must stop within a bound, and leave nothing
    behind: no task still running on its loop (every call finished or was cancelled and awaited)
    and no connection pool open (every upstream connection closed by the gateway itself, while
    this process lives on)."""
    sock = listen("127.0.0.1", 0)
    started = threading.Event()
    handles: dict[str, Any] = {}
    failure: list[BaseException] = []
    leftovers: dict[str, Any] = {}

    def main() -> None:
        async def go() -> None:
            app = create_app(config)
            handles["loop"], handles["stop"] = asyncio.get_running_loop(), asyncio.Event()
            started.set()
            await run_worker(config, sock, stop=handles["stop"], app=app)
            leftovers["tasks"] = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            leftovers["pools"] = app[UPSTREAMS].open_pools

        try:
            asyncio.run(go())
        except BaseException as error:  # reported by the test
            failure.append(error)
            started.set()

    def stop() -> None:
        if "loop" in handles:
            handles["loop"].call_soon_threadsafe(handles["stop"].set)

    thread = threading.Thread(target=main, name="herald-serve", daemon=True)
    thread.start()
    assert started.wait(60), "the gateway thread did not start"
    try:
        yield Running(url_of(sock), config, stop)
    finally:
        stop()
        thread.join(60)  # the grace period plus cancellation, on a loaded machine
        sock.close()
    assert not thread.is_alive(), "the gateway did not stop"
    assert not failure, failure
    assert leftovers["tasks"] == [], f"tasks left running after shutdown: {leftovers['tasks']}"
    assert leftovers["pools"] == 0, "connection pools left open after shutdown"


def write_config(path: Path, fake: FakeProvider, extra: str = "") -> Path:
    """The gateway's TOML file for the command: the chat and Anthropic models, with a client key."""
    fake.api_key = PROVIDER_KEY
    path.write_text(
        f'keys = ["{GATEWAY_KEY}"]\nstream_first_byte_timeout = 2\nstream_idle_timeout = 2\n{extra}\n'
        f'[[models]]\nname = "chat"\nproviders = [{{ model = "gpt-fake", base_url = "{fake.base_url}", api_key = "{PROVIDER_KEY}" }}]\n'
        f'[[models]]\nname = "claude"\nproviders = [{{ model = "claude-fake", base_url = "{fake.anthropic_base_url}", '
        f'api_mode = "anthropic_messages", api_key = "{PROVIDER_KEY}" }}]\n'
    )
    return path


@dataclass
class Command:
    """`herald serve` in a child process."""

    process: subprocess.Popen[str]
    url: str

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 20) -> int:
        return self.process.wait(timeout)


@contextmanager
def gateway_command(config: Path, *args: str) -> Iterator[Command]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "herald", "serve", "--config", str(config), "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r"listening on (http://\S+)", line)
        assert found, f"herald serve did not start: {line!r} {process.stderr.read() if process.poll() is not None else ''}"
        yield Command(process, found.group(1))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
