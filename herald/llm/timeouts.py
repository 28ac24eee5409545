"""Time limits for a streamed call."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Mapping

from herald.errors import ConfigError

_ENV = {
    "first_byte": "HERALD_STREAM_FIRST_BYTE_TIMEOUT",
    "idle": "HERALD_STREAM_IDLE_TIMEOUT",
    "total": "HERALD_STREAM_TOTAL_TIMEOUT",
    "first_token": "HERALD_STREAM_FIRST_TOKEN_TIMEOUT",
}


SOCKET_BACKSTOP_MARGIN = 1.0
"""Seconds a stream's socket timeout lies past its longest limit, so the limit always decides."""


@dataclass(frozen=True)
class StreamTimeouts:
    """How long a stream may stay quiet before Herald gives up on it and falls back.

    Each limit is in seconds; None switches it off. The defaults are generous on purpose:
    a local model on a CPU can take minutes to read a long prompt, and killing a healthy
    stream costs more than waiting.

    Examples:
        StreamTimeouts()                      # the defaults
        StreamTimeouts(idle=30)               # a fast hosted model: give up after 30 s of silence
        StreamTimeouts.from_env().with_(total=None)

    Attributes:
        first_byte: from sending the request to the first chunk of any kind.
        idle: between chunks that carry content; keep-alives and empty chunks do not count.
        total: the whole stream, start to finish.
        first_token: from sending the request to the first chunk that carries content (text,
            reasoning or a tool call); off by default. A provider that answers at once but
            thinks in silence trips it, and the call fails over.
    """

    first_byte: float | None = 600.0
    idle: float | None = 180.0
    total: float | None = 3600.0
    first_token: float | None = None

    def __post_init__(self) -> None:
        for name in ("first_byte", "idle", "total", "first_token"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"stream {name.replace('_', ' ')} timeout must be a positive number of seconds, got {value!r}")

    def with_(self, **changes: float | None) -> StreamTimeouts:
        """A copy with some limits changed."""
        return replace(self, **changes)

    def nearest_deadline(
        self, *, started: float, first_byte_at: float | None, last_content_at: float, content_seen: bool = True
    ) -> tuple[float, str, float] | None:
        """The next limit a stream can break: (monotonic deadline, the limit's name, its seconds).

        Before the first chunk the first-byte limit applies, after it the idle one; the total always;
        the first-token one until a chunk carried content.
        """
        deadlines: list[tuple[float, str, float]] = []
        if self.total is not None:
            deadlines.append((started + self.total, "total", self.total))
        if self.first_token is not None and not content_seen:
            deadlines.append((started + self.first_token, "first_token", self.first_token))
        if first_byte_at is None:
            if self.first_byte is not None:
                deadlines.append((started + self.first_byte, "first_byte", self.first_byte))
        elif self.idle is not None:
            deadlines.append((last_content_at + self.idle, "idle", self.idle))
        return min(deadlines) if deadlines else None

    def socket_timeout(self, request_timeout: float | None) -> float | None:
        """The HTTP library's own timeout for a stream held to these limits: a backstop that
        never decides before them. These limits are what a stream is held to (and what its
        failure says); `request_timeout` bounds plain requests, and only backs a stream up
        when no limit is set.
        """
        limits = [s for s in (self.first_byte, self.idle, self.total, self.first_token) if s is not None]
        if not limits:
            return request_timeout
        return max(limits + ([request_timeout] if request_timeout is not None else [])) + SOCKET_BACKSTOP_MARGIN

    @staticmethod
    def set_in_env(name: str, environ: Mapping[str, str] | None = None) -> bool:
        """Whether the `HERALD_STREAM_*` variable of limit `name` is set (to anything, "none" included)."""
        environ = os.environ if environ is None else environ
        return bool(environ.get(_ENV[name], "").strip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StreamTimeouts:
        """The defaults, overridden by `HERALD_STREAM_*_TIMEOUT` variables (seconds; 0 or "none" = off)."""
        environ = os.environ if environ is None else environ
        changes: dict[str, float | None] = {}
        for name, variable in _ENV.items():
            raw = environ.get(variable)
            if raw is not None and raw.strip():
                changes[name] = _parse_seconds(variable, raw)
        return cls(**changes)


def _parse_seconds(variable: str, raw: str) -> float | None:
    text = raw.strip().lower()
    if text in ("0", "none", "off"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not a number of seconds") from None
