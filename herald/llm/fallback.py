"""Streaming is additive: what Herald learns about an endpoint that streams badly.

A stream that fails for a stream-specific reason is replaced by one plain request (the
attempt planner, `herald.llm.planner`, decides that). Two failures say something lasting about
the endpoint and are remembered for the client's life, so later calls waste no round-trip: a
rejection of `stream_options`, and a rejection of streaming itself (a 4xx before any chunk,
confirmed by the plain request then succeeding). Transient failures say nothing and change nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Mapping

from herald.errors import ProviderError
from herald.llm.continuation import ServerKind, listing_may_tell, server_kind_from


@dataclass
class StreamSupport:
    """What one endpoint (base URL + model) has shown it accepts."""

    stream: bool = True
    """False once the endpoint rejected `stream: true` and answered the plain request."""
    stream_options: bool = True
    """False once the endpoint rejected `stream_options`."""
    continuation: bool = True
    """False once the endpoint refused to continue a cut answer from its prefix (a 400 about prefill)."""


class StreamSupportMemory:
    """`StreamSupport` per endpoint, learned from failures, and which server answers at each base
    URL, learned from its first response's headers, for one client's life."""

    def __init__(self) -> None:
        self._by_endpoint: dict[tuple[str, str], StreamSupport] = {}
        self._servers: dict[str, ServerKind | None] = {}
        self._unlisted: set[str] = set()
        """Base URLs whose headers named no known server but whose `/v1/models` listing may."""
        self._lock = threading.Lock()

    def get(self, base_url: str, model: str) -> StreamSupport:
        with self._lock:
            return self._by_endpoint.setdefault((base_url, model), StreamSupport())

    def learn_server(self, base_url: str, headers: Mapping[str, str]) -> None:
        """Read which server answers at `base_url` from a response's headers, once per base URL
        (`server_kind_from`; a header sniff, no request of its own). Later responses change nothing."""
        if base_url in self._servers:  # the common case, without the lock: a dict read
            return
        kind = server_kind_from(headers, None)
        with self._lock:
            if base_url not in self._servers:
                self._servers[base_url] = kind
                if kind is None and listing_may_tell(headers):
                    self._unlisted.add(base_url)

    def server_kind(self, base_url: str) -> ServerKind | None:
        """The server learned at `base_url` ("vllm", "llama.cpp", …), or None: unknown or none of them."""
        return self._servers.get(base_url)

    def wants_listing(self, base_url: str) -> bool:
        """Whether the server at `base_url` may be named by its `/v1/models` listing, not read yet."""
        return base_url in self._unlisted

    def learn_listing(self, base_url: str, listing: Mapping[str, object] | None) -> None:
        """Read the server at `base_url` from its `/v1/models` listing (None: there was none), once."""
        kind = server_kind_from(None, listing)
        with self._lock:
            self._unlisted.discard(base_url)
            if kind is not None:
                self._servers[base_url] = kind


# Statuses that are about the request's key, model, or rate, not about streaming.
_NOT_ABOUT_STREAMING = {401, 403, 404, 408, 409, 429}


def rejects_streaming(error: BaseException) -> bool:
    """A 4xx that is about the request's shape (not key, model or rate): maybe no streaming here."""
    return isinstance(error, ProviderError) and 400 <= error.status < 500 and error.status not in _NOT_ABOUT_STREAMING


def rejects_stream_options(error: BaseException) -> bool:
    """A 4xx/5xx whose message names `stream_options`: retry the stream without it."""
    return isinstance(error, ProviderError) and error.status >= 400 and "stream_options" in str(error).lower()


__all__ = ["StreamSupport", "StreamSupportMemory", "rejects_stream_options", "rejects_streaming"]
