"""A refused connection to this machine fails at once; other connection failures are retried."""

from __future__ import annotations

import socket
import time

import pytest

from herald.agent import AIAgent
from herald.errors import ProviderUnreachable
from herald.llm.retry import is_transient, refused_locally


def closed_port() -> int:
    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(base_url: str, *, stream: bool) -> tuple[float, ProviderUnreachable]:
    agent = AIAgent(
        "m", base_url=base_url, skip_context_files=True, skip_memory=True, persist_session=False,
        stream_delta_callback=(lambda text: None) if stream else None,
    )
    kwargs = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    started = time.monotonic()
    with pytest.raises(ProviderUnreachable) as info:
        if stream:
            agent._interruptible_streaming_api_call(kwargs)
        else:
            agent._interruptible_api_call(kwargs)
    return time.monotonic() - started, info.value


@pytest.mark.parametrize("stream", [True, False])
def test_nothing_listening_on_loopback_fails_at_once(stream: bool) -> None:
    port = closed_port()
    seconds, error = call(f"http://127.0.0.1:{port}/v1", stream=stream)
    assert refused_locally(error) and not is_transient(error)
    assert "Connection refused" in str(error)
    # With retries (1 s, 2 s, 4 s backoff) it took 7.5 s here; generous bound for a loaded machine.
    assert seconds < 3.0


def test_other_connection_failures_stay_transient() -> None:
    assert is_transient(ProviderUnreachable("api.example.com timed out: read timeout"))
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as cause:
        remote = ProviderUnreachable("api.example.com unreachable: refused")
        remote.__context__ = cause  # refused, but by no address known to be local
    assert not refused_locally(remote) and is_transient(remote)


def test_an_error_without_its_request_is_classified_not_raised() -> None:
    import httpx2

    try:
        raise httpx2.RemoteProtocolError("peer closed connection")  # no request attached: .request raises
    except httpx2.RemoteProtocolError as cause:
        error = ProviderUnreachable("127.0.0.1 unreachable: reset")
        error.__context__ = cause
    assert not refused_locally(error) and is_transient(error)
