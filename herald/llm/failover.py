"""The provider chain: which providers and keys are usable, and what failures taught, for a client's life.

The attempt planner (`herald.llm.planner`) decides each call's next step; the chain is what it
remembers between calls, sans-IO and shared by every call of a client (sync or async):

    chain = ProviderChain([ProviderInfo("m1", "https://a.example/v1", keys=2),
                           ProviderInfo("m2", "https://b.example/v1")])
    order = chain.visit_order()       # [0, 1]: healthy providers first, resting ones as a last resort
    chain.mark_down(0, "503 overloaded", error)   # skipped for the cooldown (a circuit breaker)
    chain.succeeded(1, key=0)         # that key is tried first next time; the provider is healthy

**The breaker.** A provider that failed for good is skipped by later calls for
`FailoverPolicy.cooldown` (30 s), doubled after each failed probe up to `max_cooldown`. When
the cooldown ends, exactly one call probes it (`visit_order` hands the probe to the first
caller; concurrent callers see it as resting and go elsewhere); the probe's success closes
the breaker and traffic returns to it, its failure opens it again for twice as long.

Keys: a key answered 401/403 is skipped for the client's life; a rate-limited key rests until
its `Retry-After` passes (else `key_cooldown`); a key out of quota rests `quota_cooldown`.
The chain knows keys by position only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence
from urllib.parse import urlparse

from herald.errors import ConfigError, ProviderError
from herald.llm.keypool import KeyPool


@dataclass(frozen=True)
class FailoverPolicy:
    """How long failures are remembered.

    Examples:
        FailoverPolicy()                          # a dead provider rests 30 s, then one probe
        FailoverPolicy(cooldown=10, max_cooldown=60)

    Attributes:
        cooldown: seconds a provider that failed for good is skipped by later calls (the
            first time; doubled after each failed probe).
        max_cooldown: the longest rest, however often the probes fail.
        key_cooldown: seconds a rate-limited key rests when the provider gave no `Retry-After`
            (other calls use the pool's other keys meanwhile).
        quota_cooldown: seconds a key out of quota or credit rests.
    """

    cooldown: float = 30.0
    max_cooldown: float = 300.0
    key_cooldown: float = 60.0
    quota_cooldown: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("cooldown", "max_cooldown", "key_cooldown", "quota_cooldown"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"failover {name.replace('_', ' ')} must be a number of seconds ≥ 0, got {value!r}")

    def rest_after(self, failures: int) -> float:
        """The rest after `failures` consecutive failures (1 = the first)."""
        return min(self.cooldown * 2 ** max(failures - 1, 0), max(self.max_cooldown, self.cooldown))


@dataclass(frozen=True)
class ProviderInfo:
    """What the chain knows of one provider: never its keys, only how many there are."""

    model: str
    base_url: str
    keys: int = 1
    """How many keys its pool holds (a provider that needs no key has one)."""

    @property
    def host(self) -> str:
        return urlparse(self.base_url).netloc or self.base_url

    @property
    def label(self) -> str:
        """"MODEL via HOST", for messages."""
        return f"{self.model} via {self.host}"


@dataclass(frozen=True)
class Attempt:
    """One request of a call: a provider (by position in the chain) with one of its keys."""

    provider: int
    key: int
    number: int
    """1 for the call's first request, 2 for the next, …"""


@dataclass
class _Health:
    pool: KeyPool
    down_until: float = 0.0
    failures: int = 0
    """Consecutive failures for good (0: healthy, the breaker closed)."""
    probing: bool = False
    """A call holds this provider's probe right now."""
    last_failure: str | None = None
    last_error: BaseException | None = field(default=None, repr=False)


class ProviderChain:
    """The configured providers in order, and what their failures taught, for one client's life.

    Thread-safe: the sync agent's calls, an async client's conversations and batch samples share one.

    Args:
        providers: the primary first, then the fallbacks in the order they are tried.
        policy: how long failures are remembered.
        clock: seconds, monotonic; tests pass their own to move time without sleeping.
    """

    def __init__(
        self,
        providers: Sequence[ProviderInfo],
        policy: FailoverPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self.providers = tuple(providers)
        self.policy = policy or FailoverPolicy()
        self.clock = clock
        self._health = [_Health(KeyPool(p.keys)) for p in self.providers]
        self._lock = threading.Lock()

    def update(self, provider: int, info: ProviderInfo) -> None:
        """The provider's settings changed (e.g. `/model`): what its old model taught is forgotten,
        what its keys taught is kept."""
        with self._lock:
            if info != self.providers[provider]:
                providers = list(self.providers)
                providers[provider] = info
                self.providers = tuple(providers)
                health = self._health[provider]
                health.down_until, health.failures, health.last_failure = 0.0, 0, None

    # ── which provider next ─────────────────────────────────────────────

    def visit_order(self, *, claim: bool = True) -> tuple[list[int], set[int]]:
        """The providers one call visits, and the probes it now holds.

        Healthy providers first in the configured order; a provider whose cooldown has passed
        is among them when this call takes its probe (`claim`), else, like the resting ones,
        a last resort after them. Providers whose every key was refused are never visited.
        """
        now = self.clock()
        ready: list[int] = []
        resting: list[int] = []
        claimed: set[int] = set()
        with self._lock:
            for index, health in enumerate(self._health):
                keys_at = health.pool.ready_at(now)
                if keys_at is None:
                    continue
                if health.failures and health.down_until <= now:
                    if claim and not health.probing:
                        health.probing = True
                        claimed.add(index)
                        ready.append(index)
                    else:
                        resting.append(index)
                elif max(keys_at, health.down_until) <= now:
                    ready.append(index)
                else:
                    resting.append(index)
        return ready + resting, claimed

    def is_down(self, provider: int) -> bool:
        """Skipped by new calls right now: cooling down, every key resting, or every key refused."""
        now = self.clock()
        health = self._health[provider]
        keys_at = health.pool.ready_at(now)
        return keys_at is None or max(keys_at, health.down_until) > now

    def is_ready(self, provider: int) -> bool:
        """Usable now, without waiting for a rest to end."""
        return not self.is_down(provider)

    def keys(self, provider: int) -> list[int]:
        """The keys to try on a visit: the usable ones, else the resting ones (soonest free first)."""
        return self._health[provider].pool.candidates(self.clock())

    def usable_keys(self, provider: int) -> list[int]:
        """Keys usable right now (neither refused nor resting)."""
        return self._health[provider].pool.usable(self.clock())

    def all_refused(self, provider: int) -> bool:
        return self._health[provider].pool.all_refused

    # ── what a failure taught ───────────────────────────────────────────

    def mark_down(self, provider: int, summary: str, error: BaseException) -> float:
        """The provider failed for good: skip it for its cooldown (doubling after a failed probe).
        Returns the rest in seconds."""
        with self._lock:
            health = self._health[provider]
            health.failures += 1
            rest = self.policy.rest_after(health.failures)
            health.down_until = self.clock() + rest
            health.probing = False
            self._note(health, summary, error)
            return rest

    def note_failure(self, provider: int, summary: str, error: BaseException) -> None:
        """A failure that says nothing about the provider's health (e.g. a rejected request)."""
        with self._lock:
            self._note(self._health[provider], summary, error)

    def refuse_key(self, provider: int, key: int, summary: str, error: BaseException) -> None:
        """401/403: that key is never used again by this client."""
        with self._lock:
            health = self._health[provider]
            health.pool.refuse(key)
            self._note(health, summary, error)

    def rest_key(self, provider: int, key: int, seconds: float, summary: str, error: BaseException) -> None:
        """Rate limited or out of quota: the key rests for `seconds`."""
        with self._lock:
            health = self._health[provider]
            health.pool.cool(key, self.clock() + seconds)
            self._note(health, summary, error)

    def succeeded(self, provider: int, key: int) -> None:
        """The key answered: tried first next time; the provider is healthy (its breaker closes)."""
        with self._lock:
            health = self._health[provider]
            health.pool.worked(key)
            health.down_until, health.failures, health.probing = 0.0, 0, False
            health.last_failure = None

    def release(self, provider: int) -> None:
        """A call that held the provider's probe ended without deciding it: another call may probe."""
        with self._lock:
            self._health[provider].probing = False

    # ── reporting ───────────────────────────────────────────────────────

    def last_failure(self, provider: int) -> str | None:
        return self._health[provider].last_failure

    def last_error(self, provider: int) -> BaseException | None:
        return self._health[provider].last_error

    @staticmethod
    def _note(health: _Health, summary: str, error: BaseException) -> None:
        health.last_failure = summary
        health.last_error = error


def failure_summary(error: BaseException, host: str = "") -> str:
    """A short, one-line, key-free account of a failure: "503 upstream error", "unreachable: …"."""
    if isinstance(error, ProviderError):
        text = f"{error.status} {error.provider_message}".strip() if error.provider_message else f"HTTP {error.status}"
    else:
        text = str(error) or type(error).__name__
        if host and text.startswith(host):
            text = text[len(host):].lstrip(" :")
    text = " ".join(text.split())
    return text if len(text) <= 100 else text[:99] + "…"


def dedupe(items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`items` without repeats, in order."""
    seen: dict[tuple[int, str], None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def key_note(info: ProviderInfo, key: int) -> str:
    """" key 2/3" for a provider with a pool of keys, "" otherwise (for messages)."""
    return f" key {key + 1}/{info.keys}" if info.keys > 1 else ""


def with_message(error: BaseException, message: str) -> BaseException:
    """A copy of `error` (same class and attributes, e.g. `status`) saying `message`, caused by it."""
    renamed = type(error).__new__(type(error))  # not copy.copy: it would call __init__ with the args alone
    renamed.__dict__.update(error.__dict__)
    renamed.args = (message,)
    renamed.__cause__ = error
    return renamed


__all__ = ["Attempt", "FailoverPolicy", "ProviderChain", "ProviderInfo", "dedupe", "failure_summary", "key_note", "with_message"]
