"""Which of a provider's API keys to use next.

A pool knows keys by position only, never their text, so nothing it holds, logs or
reprs can leak one. Its owner maps positions to keys at the last moment (client creation).

    pool = KeyPool(3)
    pool.usable(now=0.0)          # [0, 1, 2]
    pool.cool(0, until=60.0)      # key 1 is rate limited for a minute
    pool.refuse(1)                # key 2 was answered 401: never again
    pool.usable(now=1.0)          # [2]
    pool.worked(2)                # ...and key 3 is tried first from now on
"""

from __future__ import annotations

from typing import Iterable, Sequence

from herald.errors import ConfigError


class KeyPool:
    """The state of one provider's keys: refused for good, cooling down, or usable.

    Args:
        size: how many keys the provider has (a provider that needs no key has one, `None`).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a key pool holds at least one key")
        self.size = size
        self._refused: set[int] = set()
        self._cooling: dict[int, float] = {}
        self._preferred = 0

    def usable(self, now: float) -> list[int]:
        """Keys neither refused nor cooling, the one that worked last first, then in order."""
        ready = [i for i in self._by_preference() if i not in self._refused and self._cooling.get(i, now) <= now]
        return ready

    def waiting(self, now: float) -> list[int]:
        """Cooling keys (not refused), the one free soonest first."""
        cooling = [i for i, until in self._cooling.items() if until > now and i not in self._refused]
        return sorted(cooling, key=lambda i: (self._cooling[i], i))

    def candidates(self, now: float) -> list[int]:
        """The keys to try on a visit: the usable ones, else the cooling ones (soonest free first)."""
        return self.usable(now) or self.waiting(now)

    @property
    def all_refused(self) -> bool:
        """True once every key was refused: the provider cannot be used for the agent's life."""
        return len(self._refused) == self.size

    def ready_at(self, now: float) -> float | None:
        """When a key is next usable: `now` if one is, None if every key was refused."""
        if self.usable(now):
            return now
        waiting = self.waiting(now)
        return self._cooling[waiting[0]] if waiting else None

    def refuse(self, index: int) -> None:
        """The provider refused this key (401/403): skip it from now on."""
        self._refused.add(index)
        self._cooling.pop(index, None)

    def cool(self, index: int, until: float) -> None:
        """Rest this key (rate limited, out of quota) until the given time."""
        if index not in self._refused:
            self._cooling[index] = max(until, self._cooling.get(index, until))

    def worked(self, index: int) -> None:
        """This key just got an answer: it is tried first next time."""
        self._cooling.pop(index, None)
        self._preferred = index

    def _by_preference(self) -> Iterable[int]:
        yield self._preferred
        yield from (i for i in range(self.size) if i != self._preferred)


def parse_keys(text: str) -> tuple[str, ...]:
    """Keys from a comma-separated list ("k1, k2,k3"), blanks dropped, duplicates removed."""
    return unique_keys(part.strip() for part in text.split(","))


def unique_keys(keys: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty keys in first-seen order, each once."""
    seen: dict[str, None] = {}
    for key in keys:
        if key:
            seen.setdefault(key, None)
    return tuple(seen)


def check_keys(keys: Iterable[str | None], where: str) -> None:
    """Refuse a key that cannot go in an HTTP header, before anything is sent.

    A key with a line break, a control or a non-ASCII character (a paste gone wrong) is a
    configuration error: the HTTP library would refuse the header (and name the key in its
    error) or fail to encode it. The message names where the key came from, never the key.

    Raises:
        ConfigError: "<where>: the API key cannot be sent in an HTTP header (…)".
    """
    for number, key in enumerate(keys, 1):
        problem = _header_problem(key or "")
        if problem:
            which = f"key {number}" if number > 1 else "the API key"
            raise ConfigError(
                f"{where}: {which} cannot be sent in an HTTP header: it contains {problem}"
                " (check it for a stray character from copying it)"
            )


def _header_problem(key: str) -> str:
    """What makes ``key`` unusable as a header value ("" when nothing does)."""
    for position, char in enumerate(key, 1):
        if char in "\r\n":
            return f"a line break (character {position})"
        if ord(char) > 0x7E:
            return f"a non-ASCII character (character {position})"
        if ord(char) < 0x20 or char == "\x7f":
            return f"a control character (character {position})"
    return ""


def pool_keys(single: str | None, more: Sequence[str] = ()) -> tuple[str | None, ...]:
    """The keys of a pool: `single` first, then `more`; `(None,)` when there is no key at all."""
    return unique_keys((single, *more)) or (None,)


__all__ = ["KeyPool", "check_keys", "parse_keys", "pool_keys", "unique_keys"]
