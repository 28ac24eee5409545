"""Clients whose last request ended cleanly, kept for the next request to the same endpoint.

Each request still has a client of its own while it runs, so closing one to interrupt it
never poisons another; but a client whose request finished is handed to the next request
instead of being closed, and with it its keep-alive connection: no new TCP (and TLS)
handshake per model call, of which a tool loop makes many. A client that was abandoned
(interrupt, stall) is closed, never kept. A kept connection the server closed meanwhile can
fail the next request before any answer: the caller then retries once on a fresh client
(`LLMCaller`), and the endpoint's other kept clients, as old, are closed too.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Hashable

from herald.llm.clients import close_client

MAX_IDLE_PER_ENDPOINT = 4


class IdleClients:
    """Idle clients by endpoint; closed by `close()`, or when the owner is collected."""

    def __init__(self, max_idle: int = MAX_IDLE_PER_ENDPOINT) -> None:
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: dict[Hashable, list[Any]] = {}
        self._lent: dict[int, tuple[Hashable, bool]] = {}  # id(client) -> (endpoint, was it kept before)
        # Whoever forgets the agent without closing it: its sockets are still closed properly.
        weakref.finalize(self, _close_all, self._idle, self._lock)

    def take(self, endpoint: Hashable, make: Callable[[], Any]) -> Any:
        """A kept client for `endpoint` (the most recently used), or a new one from `make()`."""
        with self._lock:
            kept = self._idle.get(endpoint)
            client = kept.pop() if kept else None
        reused = client is not None
        if client is None:
            client = make()
        with self._lock:
            self._lent[id(client)] = (endpoint, reused)
        return client

    def reused(self, client: Any) -> bool:
        """Whether `client` (handed out by `take`) had served a request before."""
        with self._lock:
            return self._lent.get(id(client), (None, False))[1]

    def give_back(self, client: Any) -> None:
        """The client's request ended (answered or failed, not abandoned): keep it for the next."""
        with self._lock:
            endpoint, _ = self._lent.pop(id(client), (None, False))
            kept = self._idle.setdefault(endpoint, []) if endpoint is not None else None
            keep = kept is not None and len(kept) < self._max_idle
            if keep:
                kept.append(client)  # type: ignore[union-attr]
        if not keep:
            close_client(client)

    def discard(self, client: Any) -> None:
        """Close `client` now and never hand it out again (its request was abandoned mid-flight)."""
        with self._lock:
            self._lent.pop(id(client), None)
        close_client(client)

    def discard_stale(self, client: Any) -> None:
        """`client`'s kept connection was dead: close it and the endpoint's other kept clients."""
        with self._lock:
            endpoint, _ = self._lent.pop(id(client), (None, False))
            stale = self._idle.pop(endpoint, []) if endpoint is not None else []
        for each in (client, *stale):
            close_client(each)

    def close(self) -> None:
        """Close every kept client (clients in use are closed or kept when their request ends)."""
        _close_all(self._idle, self._lock)


def _close_all(idle: dict[Hashable, list[Any]], lock: threading.Lock) -> None:
    with lock:
        clients = [client for kept in idle.values() for client in kept]
        idle.clear()
    for client in clients:
        close_client(client)


__all__ = ["IdleClients", "MAX_IDLE_PER_ENDPOINT"]
