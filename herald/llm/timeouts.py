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
}


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
    """

    first_byte: float | None = 600.0
    idle: float | None = 180.0
    total: float | None = 3600.0

    def __post_init__(self) -> None:
        for name in ("first_byte", "idle", "total"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"stream {name.replace('_', ' ')} timeout must be a positive number of seconds, got {value!r}")

    def with_(self, **changes: float | None) -> StreamTimeouts:
        """A copy with some limits changed."""
        return replace(self, **changes)

    def nearest_deadline(
        self, *, started: float, first_byte_at: float | None, last_content_at: float
    ) -> tuple[float, str, float] | None:
        """The next limit a stream can break: (monotonic deadline, the limit's name, its seconds).

        Before the first chunk the first-byte limit applies, after it the idle one; the total always.
        """
        deadlines: list[tuple[float, str, float]] = []
        if self.total is not None:
            deadlines.append((started + self.total, "total", self.total))
        if first_byte_at is None:
            if self.first_byte is not None:
                deadlines.append((started + self.first_byte, "first_byte", self.first_byte))
        elif self.idle is not None:
            deadlines.append((last_content_at + self.idle, "idle", self.idle))
        return min(deadlines) if deadlines else None

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
