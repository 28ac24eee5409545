"""The gateway's one seam to providers: an `AsyncClient` per public model.

Everything about reaching providers (attempt planning, failover, the circuit breaker, stall
limits, keys, continuation) is `herald.AsyncClient`'s; this module only builds one client per
`[[models]]` entry with the file's limits and hands each finished attempt to the metrics.
The circuit breaker and what endpoints taught live in these clients: per process.
"""

from __future__ import annotations

from typing import Any, Callable

from herald.serve.config import ServeConfig


class Upstreams:
    """The clients behind the public model names, made in the running event loop.

    Their connection pools stay open between requests (kept-alive connections are reused) until
    `aclose`, which closes every pool: call it after the calls using them have ended.
    """

    def __init__(self, config: ServeConfig, *, on_attempt: Callable[[Any], object] | None = None) -> None:
        from herald.client import AsyncClient

        self._clients: dict[str, Any] = {}
        for route in config.models:
            client = AsyncClient(**route.client_arguments(), **dict(config.limits), attempt_callback=on_attempt)
            client.hold()  # this loop's pool lives until aclose, not only while a call runs
            self._clients[route.name] = client

    def secrets(self) -> tuple[str, ...]:
        """Every provider key the clients send (from the file or the environment), for scrubbing."""
        return tuple(dict.fromkeys(key for client in self._clients.values() for key in client.secrets() if key))

    @property
    def names(self) -> list[str]:
        """The public model names, in the file's order."""
        return list(self._clients)

    def client(self, name: str) -> Any | None:
        """The `AsyncClient` serving `name`, or None for a model this gateway does not serve."""
        return self._clients.get(name)

    async def aclose(self) -> None:
        """Close every client's connection pool (a pool still leased by a running call closes when that call ends)."""
        for client in self._clients.values():
            await client.aclose()

    @property
    def open_pools(self) -> int:
        """Connection pools open now, over every client (0 once closed); for tests and leak checks."""
        return sum(client.open_pools for client in self._clients.values())


__all__ = ["Upstreams"]
