"""Failover: which provider, and which of its keys, takes a model call next.

A layer above each provider's own call path (stream → fallback → retry → attempt): when a
provider fails for good, the next one in the configured order takes the same call. The
decisions live here, sans-IO, so the sync agent and an async one share them and differ
only in how they wait:

    chain = ProviderChain([ProviderInfo("m1", "https://a.example/v1", keys=2),
                           ProviderInfo("m2", "https://b.example/v1")])
    plan = chain.plan()                  # one model call's walk along the chain
    attempt = plan.next()                # Attempt(provider=0, key=0, number=1)
    plan.failed(attempt, error)          # True: a provider's failure, recorded; try plan.next()
    plan.succeeded(attempt)              # that key is tried first next time; the provider is healthy

What a failure teaches, per `classify`:

- "dead": 5xx (after retries), connection failure or timeout, 404 (no such model), an
  answer that is not one. The provider is skipped by later calls for `FailoverPolicy.cooldown`,
  then probed again. Text it streamed is void (the driver's caller resets its consumers).
- "key_refused": 401/403. That key is skipped for the agent's life; the next key is tried.
- "key_quota": 402, or a 429 that says the quota or credit is gone. The key cools down.
- "rate_limited": 429. The key cools down (`Retry-After`, else `key_cooldown`); the next
  key is tried at once. Only with no key to rotate to does the provider's own retry wait.
- "request_rejected": any other 4xx: the request itself is wrong (context too long, bad
  parameters). The same request would be rejected again by the same model wherever it runs,
  so it goes only to a provider whose model differs. The provider stays healthy.

Interrupts never fail over, and neither does an error that is not a provider's failure
(a bug): both propagate at once. The pool and the chain know keys by position only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Generator, Literal, Sequence, TypeVar
from urllib.parse import urlparse

from herald.errors import (
    AuthenticationError,
    BadResponse,
    ConfigError,
    Interrupted,
    LLMError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
)
from herald.llm.keypool import KeyPool
from herald.llm.retry import RetryPolicy
from herald.llm.steps import arun_steps, run_steps

log = logging.getLogger("herald.llm")

T = TypeVar("T")

Outcome = Literal["dead", "key_refused", "key_quota", "rate_limited", "request_rejected"]

_QUOTA_WORDS = ("quota", "credit", "billing", "insufficient_funds", "payment")


@dataclass(frozen=True)
class FailoverPolicy:
    """How long failures are remembered.

    Examples:
        FailoverPolicy()                   # a dead provider rests 2 minutes
        FailoverPolicy(cooldown=30)        # probe a dead provider again after 30 s

    Attributes:
        cooldown: seconds a provider that failed for good is skipped by later calls.
        key_cooldown: seconds a rate-limited key rests when the provider gave no `Retry-After`.
        quota_cooldown: seconds a key out of quota or credit rests.
    """

    cooldown: float = 120.0
    key_cooldown: float = 60.0
    quota_cooldown: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("cooldown", "key_cooldown", "quota_cooldown"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"failover {name.replace('_', ' ')} must be a number of seconds ≥ 0, got {value!r}")


@dataclass(frozen=True)
class ProviderInfo:
    """What the chain knows of one provider: never its keys, only how many there are."""

    model: str
    base_url: str
    keys: int = 1
    """How many keys its pool holds (a provider that needs none has one)."""

    @property
    def host(self) -> str:
        return urlparse(self.base_url).netloc or self.base_url

    @property
    def label(self) -> str:
        """"MODEL via HOST", for messages."""
        return f"{self.model} via {self.host}"


@dataclass(frozen=True)
class Attempt:
    """One try of a call: a provider (by position in the chain) with one of its keys."""

    provider: int
    key: int
    number: int
    """1 for the call's first attempt, 2 for the next, …"""


@dataclass(frozen=True)
class AttemptFailure:
    attempt: Attempt
    outcome: Outcome
    summary: str
    """Short and key-free, e.g. "503 The engine is overloaded"."""


@dataclass
class _Health:
    pool: KeyPool
    down_until: float = 0.0
    last_failure: str | None = None
    last_error: BaseException | None = field(default=None, repr=False)


def classify(error: BaseException) -> Outcome | None:
    """What a failed call says about its provider and key; None when it says nothing (propagate it)."""
    if isinstance(error, Interrupted):
        return None
    if isinstance(error, AuthenticationError):
        return "key_refused"
    if isinstance(error, ConfigError):
        return "key_refused"  # e.g. no key for this host: nothing will change during the agent's life
    if isinstance(error, ProviderError):
        if is_quota(error):
            return "key_quota"
        if isinstance(error, RateLimitError):
            return "rate_limited"
        if isinstance(error, ModelNotFoundError) or error.status >= 500 or error.status in (408, 409):
            return "dead"
        return "request_rejected"
    if isinstance(error, (ProviderUnreachable, BadResponse, LLMError)):
        return "dead"
    return None


def is_quota(error: BaseException) -> bool:
    """402, or a 429 that says the quota, credit or billing is exhausted (waiting will not help)."""
    if not isinstance(error, ProviderError):
        return False
    if error.status == 402:
        return True
    text = f"{error.provider_message} {error.body}".lower()
    return error.status == 429 and any(word in text for word in _QUOTA_WORDS)


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


class ProviderChain:
    """The configured providers in order, and what their failures taught, for one agent's life.

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

    def update(self, provider: int, info: ProviderInfo) -> None:
        """The provider's settings changed (e.g. `/model`): what its old model taught is forgotten,
        what its keys taught is kept."""
        if info != self.providers[provider]:
            providers = list(self.providers)
            providers[provider] = info
            self.providers = tuple(providers)
            health = self._health[provider]
            health.down_until, health.last_failure = 0.0, None

    def plan(self) -> CallPlan:
        """A walk along the chain for one model call."""
        return CallPlan(self)

    def has_spare_key(self, provider: int, key: int) -> bool:
        """Another key of this provider is usable now, so a 429 should rotate to it rather than wait."""
        return any(k != key for k in self._health[provider].pool.usable(self.clock()))

    def is_down(self, provider: int) -> bool:
        """Skipped by new calls right now: cooling down, every key resting, or every key refused."""
        now = self.clock()
        ready_at = self._ready_at(provider, now)
        return ready_at is None or ready_at > now

    def _ready_at(self, provider: int, now: float) -> float | None:
        health = self._health[provider]
        keys_ready = health.pool.ready_at(now)
        if keys_ready is None:
            return None
        return max(keys_ready, health.down_until, now)

    def _visit_order(self, now: float) -> list[int]:
        """Healthy providers in the configured order; then, as a last resort, the resting ones
        in the same order. Providers whose every key was refused are never visited."""
        ready: list[int] = []
        resting: list[int] = []
        for index in range(len(self.providers)):
            at = self._ready_at(index, now)
            if at is None:
                continue
            (ready if at <= now else resting).append(index)
        return ready + resting


class CallPlan:
    """One model call's walk along a `ProviderChain`: which attempt next, and what each failure means."""

    def __init__(self, chain: ProviderChain) -> None:
        self._chain = chain
        self._order = chain._visit_order(chain.clock())
        self._visiting: int | None = None
        self._keys: list[int] = []
        self._rejected_models: set[str] = set()
        self.failures: list[AttemptFailure] = []
        self.answered: Attempt | None = None
        self._last_error: BaseException | None = None

    # ── the walk ────────────────────────────────────────────────────────

    def next(self) -> Attempt | None:
        """The next attempt, or None when no provider is left to try."""
        while not self._keys:
            if not self._order:
                return None
            provider = self._order.pop(0)
            info = self._chain.providers[provider]
            if info.model in self._rejected_models:
                log.info("not failing over to %s: the same model already rejected this request", info.label)
                continue
            self._visiting = provider
            self._keys = self._chain._health[provider].pool.candidates(self._chain.clock())
        assert self._visiting is not None
        return Attempt(self._visiting, self._keys.pop(0), len(self.failures) + 1)

    def failed(self, attempt: Attempt, error: BaseException) -> bool:
        """Record a failed attempt. False when the error is not a provider's failure and must propagate now."""
        outcome = classify(error)
        if outcome is None:
            return False
        chain, now = self._chain, self._chain.clock()
        info, health = chain.providers[attempt.provider], chain._health[attempt.provider]
        summary = failure_summary(error, info.host)
        self.failures.append(AttemptFailure(attempt, outcome, summary))
        self._last_error = health.last_error = error
        health.last_failure = summary
        if outcome == "key_refused":
            health.pool.refuse(attempt.key)
        elif outcome == "key_quota":
            health.pool.cool(attempt.key, now + chain.policy.quota_cooldown)
        elif outcome == "rate_limited":
            asked = error.retry_after if isinstance(error, ProviderError) else None
            health.pool.cool(attempt.key, now + (asked if asked is not None else chain.policy.key_cooldown))
        elif outcome == "dead":
            health.down_until = now + chain.policy.cooldown
            self._keys = []
        else:  # request_rejected: the provider is fine; only a different model may accept this request
            self._rejected_models.add(info.model)
            self._keys = []
        log.info("%s%s failed (%s)", info.label, _key_note(info, attempt.key), summary)
        return True

    def succeeded(self, attempt: Attempt) -> None:
        """Record the attempt that answered: its key is tried first next time, its provider is healthy."""
        health = self._chain._health[attempt.provider]
        health.pool.worked(attempt.key)
        health.down_until = 0.0
        health.last_failure = None
        self.answered = attempt

    # ── reporting ───────────────────────────────────────────────────────

    def answered_by(self) -> dict[str, Any] | None:
        """Who answered, JSON-ready: `model`, `base_url`, and `skipped`: the providers ahead of it in
        the chain that did not answer, each with its `model`, `base_url` and `reason`."""
        if self.answered is None:
            return None
        providers = self._chain.providers
        skipped = [
            {"model": providers[i].model, "base_url": providers[i].base_url, "reason": self._reason(i)}
            for i in range(self.answered.provider)
        ]
        info = providers[self.answered.provider]
        return {"model": info.model, "base_url": info.base_url, "skipped": skipped}

    def error(self) -> BaseException:
        """The error to raise once `next()` is None: the last provider's, naming every provider tried.

        A call that made a single attempt raises that attempt's error unchanged.
        """
        last = self._last_error
        if last is None:  # nothing left to try at all: every key of every provider was refused earlier
            last = next((h.last_error for h in reversed(self._chain._health) if h.last_error is not None), None)
            if last is None:
                return ConfigError("no provider can be tried")
        elif len(self.failures) == 1:
            return last
        return _with_message(last, f"{self._account()}; last error: {last}")

    def _reason(self, provider: int) -> str:
        mine = [f.summary for f in self.failures if f.attempt.provider == provider]
        if mine:
            return mine[-1]
        health = self._chain._health[provider]
        if health.pool.all_refused:
            return f"every key refused ({health.last_failure})"
        if health.last_failure:
            return f"resting after: {health.last_failure}"
        return "not tried"

    def _account(self) -> str:
        providers = self._chain.providers
        parts = []
        for index, info in enumerate(providers):
            tried = [f for f in self.failures if f.attempt.provider == index]
            if tried:
                detail = ", ".join(f"{_key_note(info, f.attempt.key).strip()} {f.summary}".strip() for f in tried)
            else:
                detail = "not tried: " + self._reason(index)
            parts.append(f"{info.label}: {detail}")
        if len(providers) == 1:
            return f"every key of {parts[0]}"
        return f"all {len(providers)} providers failed ({'; '.join(parts)})"


def _key_note(info: ProviderInfo, key: int) -> str:
    return f" key {key + 1}/{info.keys}" if info.keys > 1 else ""


def _with_message(error: BaseException, message: str) -> BaseException:
    """A copy of `error` (same class and attributes, e.g. `status`) saying `message`, caused by it."""
    renamed = type(error).__new__(type(error))  # not copy.copy: it would call __init__ with the args alone
    renamed.__dict__.update(error.__dict__)
    renamed.args = (message,)
    renamed.__cause__ = error
    return renamed


# ── drivers: the same walk, waiting two ways ────────────────────────────


def failover_steps(plan: CallPlan, *, is_interrupted: Callable[[], bool]) -> Generator[Attempt, T, T]:
    """The walk as sans-IO steps (`herald.llm.steps`): yields each attempt, is sent its answer
    or has its error thrown in; returns the first answer.

    Raises:
        Interrupted: at once, from any attempt (or between attempts): never a failover.
        Whatever an attempt raised that is not a provider's failure, unchanged.
        `plan.error()` when every provider failed.
    """
    while (attempt := plan.next()) is not None:
        try:
            result: T = yield attempt
        except Exception as error:
            if not plan.failed(attempt, error):
                raise
            if is_interrupted():
                raise Interrupted() from error
            continue
        plan.succeeded(attempt)
        return result
    raise plan.error()


def call_with_failover(plan: CallPlan, run: Callable[[Attempt], T], *, is_interrupted: Callable[[], bool]) -> T:
    """Run `run(attempt)` along the plan until one answers (see `failover_steps`)."""
    return run_steps(failover_steps(plan, is_interrupted=is_interrupted), run)


async def acall_with_failover(
    plan: CallPlan, run: Callable[[Attempt], Awaitable[T]], *, is_interrupted: Callable[[], bool]
) -> T:
    """`call_with_failover` for coroutines (cancellation propagates like an interrupt)."""
    return await arun_steps(failover_steps(plan, is_interrupted=is_interrupted), run)


# ── the retry layer's side of a key pool ───────────────────────────────


@dataclass(frozen=True)
class RotatingRetryPolicy(RetryPolicy):
    """`RetryPolicy`, except that a 429 is not waited out when another key is ready (failover
    rotates to it at once), and a quota error is never waited out (it does not pass).

    Attributes:
        spare_key: True when the provider has another usable key right now.
    """

    spare_key: Callable[[], bool] = field(default=lambda: False, compare=False)

    def should_retry(self, error: BaseException) -> bool:
        if isinstance(error, ProviderError) and error.status == 429 and (is_quota(error) or self.spare_key()):
            return False
        return super().should_retry(error)


__all__ = [
    "Attempt",
    "AttemptFailure",
    "CallPlan",
    "FailoverPolicy",
    "ProviderChain",
    "ProviderInfo",
    "RotatingRetryPolicy",
    "acall_with_failover",
    "call_with_failover",
    "classify",
    "failover_steps",
    "failure_summary",
    "is_quota",
]
