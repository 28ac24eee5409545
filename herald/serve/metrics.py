"""`GET /metrics`: Prometheus counters of one gateway process (prometheus-client, the `serve` extra).

Labels are the endpoint, the public model name, the status and the attempt outcome: never a
key, a host's credentials or a message. Each `Metrics` has its own registry, so several apps
in one process (tests) do not collide; with `--workers N` each process counts its own.
"""

from __future__ import annotations

from typing import Any

from herald.errors import ConfigError

INSTALL_HINT = "pip install 'herald[serve]'"

try:
    import prometheus_client as _prometheus
except ImportError:  # pragma: no cover - exercised by the CI check that the extra is installed
    _prometheus = None  # type: ignore[assignment]


def require_extra() -> None:
    """Raise a one-line error when the `serve` extra is missing.

    Raises:
        ConfigError: prometheus-client is not installed.
    """
    if _prometheus is None:
        raise ConfigError(f"herald serve needs the serve extra: {INSTALL_HINT}")


_TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The gateway's counters: requests, attempts by outcome, failovers, continuations, TTFT."""

    content_type = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self) -> None:
        require_extra()
        p: Any = _prometheus
        self.registry = p.CollectorRegistry()
        self.requests = p.Counter(
            "herald_serve_requests", "Requests answered, by endpoint, public model and HTTP status.",
            ["endpoint", "model", "status"], registry=self.registry,
        )
        self.attempts = p.Counter(
            "herald_serve_attempts", "Upstream requests, by outcome (ok, stalled, rate_limited, …).",
            ["outcome"], registry=self.registry,
        )
        self.failovers = p.Counter("herald_serve_failovers", "Calls moved on to the next provider.", registry=self.registry)
        self.continuations = p.Counter(
            "herald_serve_continuations", "Cut streams continued in place, where they stopped (the client saw no break).", registry=self.registry
        )
        self.stream_errors = p.Counter(
            "herald_serve_stream_errors", "Streams ended with an in-band error after their 200.", ["endpoint"],
            registry=self.registry,
        )
        self.ttft = p.Histogram(
            "herald_serve_time_to_first_token_seconds", "From request to the first content sent to the client.",
            ["endpoint"], buckets=_TTFT_BUCKETS, registry=self.registry,
        )
        self.in_flight = p.Gauge("herald_serve_requests_in_flight", "Requests being answered now.", registry=self.registry)

    def attempt(self, record: Any) -> None:
        """An upstream request ended (`AttemptRecord`): count its outcome and a move to the next provider.

        Continuations are counted by the relay, when the continued text reaches the client (a
        continuation the provider refused is a restart, not a continuation)."""
        self.attempts.labels(record.outcome).inc()
        if record.next == "fallback":
            self.failovers.inc()

    def render(self) -> bytes:
        """The text exposition format."""
        p: Any = _prometheus
        return bytes(p.generate_latest(self.registry))


__all__ = ["INSTALL_HINT", "Metrics", "require_extra"]
