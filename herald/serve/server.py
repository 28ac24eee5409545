"""Running the gateway: one listening socket, N worker processes, SIGTERM with a grace period.

The socket is bound once, before any worker starts (so `port = 0` resolves to one port), and
each worker process accepts on it (`os.fork`: the workers share the socket, the kernel hands
each connection to one of them). Each worker has its own clients, hence its own circuit breaker,
endpoint memory and metrics: nothing is shared between processes or machines.

SIGTERM (or SIGINT): stop accepting at once, let in-flight requests finish for the grace period,
then cancel the rest (their streams end without `[DONE]` / `message_stop`) and close.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from typing import Callable

from aiohttp import web

from herald.serve.app import create_app
from herald.serve.config import ServeConfig

BACKLOG = 4096
LEFTOVER_WAIT = 2.0


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (raises OSError when the address is taken or not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(config: ServeConfig, *, workers: int = 1, announce: Callable[[str], object] = print) -> int:
    """Serve until SIGTERM / SIGINT; return the exit code.

    Raises:
        OSError: the address cannot be bound.
    """
    sock = listen(config.host, config.port)
    announce(f"herald serve: listening on {url_of(sock)} ({workers} worker{'s' if workers != 1 else ''}, "
             f"{len(config.models)} model{'s' if len(config.models) != 1 else ''})")
    if workers == 1:
        asyncio.run(run_worker(config, sock))
        return 0
    return _supervise(config, sock, workers)


def _supervise(config: ServeConfig, sock: socket.socket, workers: int) -> int:
    """Fork the workers; pass SIGTERM / SIGINT on to them; wait for all of them."""
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            code = 0
            try:
                asyncio.run(run_worker(config, sock))
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def forward(signum: int, frame: object) -> None:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    failed = 0
    for child in children:
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        failed += os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM)
    return 1 if failed else 0


async def run_worker(
    config: ServeConfig, sock: socket.socket, *, stop: asyncio.Event | None = None, app: web.Application | None = None
) -> None:
    """Serve `config` on `sock` until `stop` is set (SIGTERM / SIGINT set it when not given).

    `app`: the application to run (default `create_app(config)`). Returns once shutdown is
    complete: calls in flight finished or cancelled, their upstream requests and every pool closed.
    """
    loop = asyncio.get_running_loop()
    if stop is None:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    # The grace period is the app's (its on_shutdown drain); aiohttp's own timeout only bounds
    # what is left after it (a request that is not a call, such as /metrics).
    runner = web.AppRunner(app or create_app(config), handler_cancellation=True, shutdown_timeout=LEFTOVER_WAIT, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        await stop.wait()
    finally:
        # Stops accepting, closes idle connections, drains the calls (the app's grace), closes the pools.
        await runner.cleanup()


__all__ = ["listen", "run_worker", "serve", "url_of"]
