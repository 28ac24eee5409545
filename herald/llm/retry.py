"""Retry a plain request on transient failures, with backoff, honouring Retry-After."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from herald.errors import Interrupted, ProviderError, ProviderUnreachable

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed plain request.

    Attributes:
        max_retries: retries after the first attempt (0 = no retry).
        base_delay: the first backoff, doubled after each retry, with jitter.
        max_delay: no single wait is longer, whatever `Retry-After` says.
    """

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 60.0

    def should_retry(self, error: BaseException) -> bool:
        """Whether a failed attempt is worth another (by default: when it is transient)."""
        return is_transient(error)

    def delay_for(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        asked = error.retry_after if isinstance(error, ProviderError) else None
        if asked is not None:
            return min(max(asked, 0.0), self.max_delay)
        backoff = self.base_delay * 2 ** (attempt - 1)
        return min(backoff * random.uniform(0.8, 1.2), self.max_delay)


def is_transient(error: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, connection failures and timeouts."""
    if isinstance(error, ProviderError):
        return error.status in (408, 409, 429) or error.status >= 500
    return isinstance(error, ProviderUnreachable)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def call_with_retries(
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], bool],
) -> T:
    """Call `attempt` until it succeeds, fails for good, or retries run out.

    Args:
        attempt: one request.
        policy: how many retries and how long between them.
        sleep: waits the given seconds; returns True if interrupted while waiting.

    Raises:
        Interrupted: the wait between attempts was interrupted.
        The last attempt's error otherwise.
    """
    for number in range(policy.max_retries + 1):
        try:
            return attempt()
        except Exception as error:
            if number == policy.max_retries or not policy.should_retry(error):
                raise
            delay = policy.delay_for(number + 1, error)
            log.info("request failed (%s); retry %d/%d in %.1fs", error, number + 1, policy.max_retries, delay)
            if sleep(delay):
                raise Interrupted() from error
    raise AssertionError("unreachable")
