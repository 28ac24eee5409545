"""A failed connection is named for what happened: refused, reset, DNS, timed out (issue 23).

Over real loopback sockets, through the real SDK clients (sync on httpx, async on aiohttp):
the aiohttp transport wraps a refusal and a reset as a connect *timeout*, which the message
used to repeat ("timed out: Cannot connect…", "timed out: [Errno 104] Connection reset by peer").
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from herald.errors import ProviderUnreachable
from herald.llm.async_clients import make_async_openai_client
from herald.llm.clients import make_openai_client
from herald.llm.endpoint import resolve_endpoint
from herald.llm.sdk_errors import connection_failure, translate_errors


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def resetting_port() -> Iterator[int]:
    """A server that reads the request, then resets the connection (RST, no answer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield int(server.getsockname()[1])
    server.close()


def _endpoint(port: int):  # type: ignore[no-untyped-def]
    return resolve_endpoint(model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-secret-wording", api_mode="chat_completions")


def _sync_error(port: int, timeout: float = 5.0) -> ProviderUnreachable:
    endpoint = _endpoint(port)
    client = make_openai_client(endpoint, timeout=timeout)
    try:
        with pytest.raises(ProviderUnreachable) as caught, translate_errors(where=endpoint.host, secrets=("sk-secret-wording",)):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    finally:
        client.close()
    return caught.value


def _async_error(port: int, timeout: float = 5.0) -> ProviderUnreachable:
    async def run() -> ProviderUnreachable:
        endpoint = _endpoint(port)
        client = make_async_openai_client(endpoint, timeout=timeout, max_connections=None)
        try:
            with pytest.raises(ProviderUnreachable) as caught, translate_errors(where=endpoint.host):
                await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        finally:
            await client.close()
        return caught.value

    return asyncio.run(run())


@pytest.mark.parametrize("call", [_sync_error, _async_error], ids=["sync", "async"])
def test_a_refused_connection_is_refused_not_a_timeout(call) -> None:  # type: ignore[no-untyped-def]
    error = call(_free_port())
    assert "unreachable: refused" in str(error)
    assert "timed out" not in str(error)
    assert not error.timed_out


def test_a_reset_connection_is_reset_not_a_timeout(resetting_port: int) -> None:
    error = _async_error(resetting_port)
    assert "reset the connection" in str(error) and "Connection reset by peer" in str(error)
    assert "timed out" not in str(error)
    assert not error.timed_out


@pytest.mark.parametrize("call", [_sync_error, _async_error], ids=["sync", "async"])
def test_a_real_timeout_still_says_timed_out(call, silent_port: int) -> None:  # type: ignore[no-untyped-def]
    error = call(silent_port, 0.5)
    assert "timed out" in str(error)
    assert error.timed_out


def test_a_dns_failure_is_named_dns() -> None:
    # No lookup leaves the machine in tests: the chain aiohttp builds, by hand.
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as lookup:
            raise TimeoutError("Cannot connect to host nowhere.invalid:443") from lookup
    except TimeoutError as wrapper:
        assert connection_failure(wrapper) == "DNS"
