"""Which connection failures are worth a retry (the planner, `herald.llm.planner`, decides the rest)."""

from __future__ import annotations

import ipaddress

from herald.errors import ProviderError, ProviderUnreachable


def is_transient(error: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, connection failures and timeouts.

    Not a connection refused by this machine or the local network: nothing listens there,
    and nothing will within a retry's seconds, so waiting only hides the answer.
    """
    if isinstance(error, ProviderError):
        return error.status in (408, 409, 429) or error.status >= 500
    return isinstance(error, ProviderUnreachable) and not refused_locally(error)


def refused_locally(error: BaseException) -> bool:
    """True when `error` was caused by a refused connection to a loopback or private address."""
    refused, host = False, None
    seen: BaseException | None = error
    for _ in range(16):  # the cause chain, bounded
        if seen is None:
            break
        refused = refused or isinstance(seen, ConnectionRefusedError)
        host = host or _request_host(seen)
        seen = seen.__cause__ or seen.__context__
    return refused and host is not None and _is_local_host(str(host))


def _request_host(error: BaseException) -> object:
    """The host of the request `error` names, if any (httpx's `.request` raises when unset)."""
    try:
        request = getattr(error, "request", None)
    except RuntimeError:  # httpx2.RequestError: "The .request property has not been set."
        return None
    return getattr(getattr(request, "url", None), "host", None)


def _is_local_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private
