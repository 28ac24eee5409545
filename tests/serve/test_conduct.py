"""Serving conduct: auth, keys kept in, metrics, the held status, disconnects, SIGTERM, workers."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from fakeprovider import FakeProvider, Reply

from .harness import GATEWAY_KEY, PROVIDER_KEY, Running, config_for, gateway_command, gateway_thread, write_config

CHAT = {"model": "chat", "messages": [{"role": "user", "content": "q"}]}
LONG = "word " * 400


def _wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return bool(condition())  # type: ignore[operator]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"x-api-key": "wrong"}, 401), ({"Authorization": "Basic " + GATEWAY_KEY}, 401),
     ({"Authorization": f"Bearer {GATEWAY_KEY}"}, 200), ({"x-api-key": GATEWAY_KEY}, 200)],
)
def test_clients_authenticate_with_bearer_or_x_api_key(fake: FakeProvider, gateway: Running, headers: dict[str, str], status: int) -> None:
    fake.default = Reply(text="ok")
    chat = httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=headers, timeout=30)
    assert chat.status_code == status
    messages = httpx.post(f"{gateway.url}/v1/messages", json={**CHAT, "max_tokens": 5}, headers=headers, timeout=30)
    assert messages.status_code == status
    if status == 401:
        assert chat.json()["error"]["message"] == "missing or invalid API key"
        assert messages.json()["error"]["type"] == "authentication_error"
        assert not fake.requests  # nothing reached a provider
    assert httpx.get(f"{gateway.url}/v1/models", headers=headers, timeout=30).status_code == status


def test_health_needs_no_key(gateway: Running) -> None:
    assert httpx.get(f"{gateway.url}/health", timeout=30).json() == {"status": "ok"}


def test_without_keys_there_is_no_auth_on_loopback(fake: FakeProvider) -> None:
    fake.default = Reply(text="open")
    with gateway_thread(config_for(fake, keys=())) as running:
        response = httpx.post(f"{running.url}/v1/chat/completions", json=CHAT, timeout=30)
    assert response.json()["choices"][0]["message"]["content"] == "open"


def test_provider_keys_never_reach_responses_logs_or_metrics(fake: FakeProvider, gateway: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.default = Reply(fault="echo_key")  # the provider's 401 quotes the key it was sent
    seen = []
    for stream in (False, True):
        for path, body in (("/v1/chat/completions", CHAT), ("/v1/messages", {**CHAT, "max_tokens": 5})):
            response = httpx.post(f"{gateway.url}{path}", json={**body, "stream": stream}, headers={"x-api-key": GATEWAY_KEY}, timeout=30)
            assert response.status_code >= 400
            seen.append(response.text + str(response.headers))
    assert any(PROVIDER_KEY in str(r.body) or PROVIDER_KEY in str(r.headers) for r in fake.requests)  # it was sent upstream
    seen.append(httpx.get(f"{gateway.url}/metrics", headers={"x-api-key": GATEWAY_KEY}, timeout=30).text)
    seen.append(caplog.text)
    for text in seen:
        assert PROVIDER_KEY not in text
        assert GATEWAY_KEY not in text


def test_metrics_count_requests_attempts_failovers_and_ttft(fake: FakeProvider, gateway: Running) -> None:
    fake.default = Reply(text="hi")
    headers = {"x-api-key": GATEWAY_KEY}
    httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=headers, timeout=30)
    failover = httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "model": "failover"}, headers=headers, timeout=60)
    assert failover.status_code == 200, failover.text
    httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "model": "nope"}, headers=headers, timeout=30)
    httpx.get(f"{gateway.url}/any/path/a/client/likes", timeout=30)  # no key: 401, and no new label value
    text = httpx.get(f"{gateway.url}/metrics", headers=headers, timeout=30).text
    assert 'herald_serve_requests_total{endpoint="other",model="-",status="401"} 1.0' in text
    assert 'herald_serve_requests_total{endpoint="/v1/chat/completions",model="chat",status="200"} 1.0' in text
    assert 'herald_serve_requests_total{endpoint="/v1/chat/completions",model="-",status="404"} 1.0' in text
    assert 'herald_serve_attempts_total{outcome="ok"} 2.0' in text
    assert re.search(r'herald_serve_attempts_total\{outcome="(?!ok")\w+"\} 1.0', text)  # the dead primary
    assert "herald_serve_failovers_total 1.0" in text
    assert 'herald_serve_time_to_first_token_seconds_count{endpoint="/v1/chat/completions"} 2.0' in text
    assert "herald_serve_continuations_total" in text


def test_the_status_is_held_until_content_then_keepalives_commit_it(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="late but fine", fault="stall_first_byte", stall_seconds=3))  # keepalives every 0.3 s meanwhile
    with gateway_thread(config_for(fake, keepalive_after=0.3, limits={"stream_first_byte_timeout": 30.0})) as running:
        with httpx.stream("POST", f"{running.url}/v1/chat/completions", json={**CHAT, "stream": True}, headers={"x-api-key": GATEWAY_KEY}, timeout=30) as response:
            assert response.status_code == 200
            body = response.read().decode()
    assert body.startswith(": keepalive\n\n: keepalive\n\n")
    assert body.endswith("data: [DONE]\n\n") and "late but fine" not in body.split("data:")[0]


def test_a_stream_that_fails_before_content_is_not_committed(fake: FakeProvider, gateway: Running) -> None:
    fake.default = Reply(fault="http_error", status=429)
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "stream": True}, headers={"x-api-key": GATEWAY_KEY}, timeout=30)
    assert response.status_code == 429 and response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("stream", [True, False])
def test_a_client_that_disconnects_cancels_its_upstream(fake: FakeProvider, gateway: Running, stream: bool) -> None:
    fake.default = Reply(text=LONG, delay=0.05, chunk_chars=5) if stream else Reply(text=LONG, fault="trickle", delay=0.05)
    client = socket.create_connection(("127.0.0.1", int(gateway.url.rsplit(":", 1)[1])))
    body = httpx.Request("POST", f"{gateway.url}/v1/chat/completions", json={**CHAT, "stream": stream}, headers={"x-api-key": GATEWAY_KEY})
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: {GATEWAY_KEY}\r\n"
    payload = body.read()
    try:
        client.sendall(head.encode() + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        assert _wait_until(lambda: fake.requests and fake.connection_open(fake.requests[-1].connection), 30)
        received = b""
        while stream and b"data:" not in received:  # the answer is flowing
            received += client.recv(65536)
    finally:
        client.close()
    connection = fake.requests[-1].connection
    # The answer runs for 20 s: its connection closing before that is the gateway's doing (the
    # benchmark measures how fast: section 12).
    assert _wait_until(lambda: not fake.connection_open(connection), 15), "the upstream request was left running"


def test_sigterm_stops_accepting_lets_streams_finish_then_exits(fake: FakeProvider, tmp_path: Path) -> None:
    fake.default = Reply(text="x" * 200, delay=0.05, chunk_chars=2)  # about 5 s: well within the grace period
    config = write_config(tmp_path / "gw.toml", fake, "shutdown_grace = 60")
    with gateway_command(config) as command:
        results: list[str] = []

        def stream() -> None:
            with httpx.stream("POST", f"{command.url}/v1/chat/completions", json={**CHAT, "stream": True},
                              headers={"x-api-key": GATEWAY_KEY}, timeout=60) as response:
                results.append(response.read().decode())

        reader = threading.Thread(target=stream)
        reader.start()
        assert _wait_until(lambda: fake.requests, 30)
        command.terminate()

        def refused() -> bool:
            try:
                httpx.get(f"{command.url}/health", timeout=5)
            except httpx.ConnectError:
                return True
            except httpx.TransportError:  # accepted just before, then closed: not yet refusing
                return False
            return False

        assert _wait_until(refused, 30), "still accepting after SIGTERM"
        assert not results, "the stream ended before the gateway stopped accepting: make it longer"
        reader.join(60)
        assert command.wait(60) == 0
    assert results and results[0].endswith("data: [DONE]\n\n")
    assert "x" * 200 == "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content") or "" for line in results[0].splitlines() if line.startswith("data: {")
    )


@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/messages"])
def test_after_the_grace_period_streams_are_cut_and_their_upstream_closed(fake: FakeProvider, endpoint: str) -> None:
    fake.default = Reply(text=LONG, delay=0.05, chunk_chars=5)  # about 20 s
    body = {**CHAT, "stream": True, "max_tokens": 5000}
    # gateway_thread: the gateway stops while this process (and so every socket it did not close) lives on;
    # on the way out it checks that no task is left running and no connection pool is open.
    with gateway_thread(config_for(fake, shutdown_grace=0.5)) as running:
        with httpx.stream("POST", f"{running.url}{endpoint}", json=body, headers={"x-api-key": GATEWAY_KEY}, timeout=60) as response:
            iterator = response.iter_bytes()
            assert b"data:" in next(iterator)
            connection = fake.requests[-1].connection
            assert fake.connection_open(connection)
            running.stop()
            rest = b""
            with pytest.raises(httpx.RemoteProtocolError):
                for piece in iterator:
                    rest += piece
    assert b"[DONE]" not in rest and b"message_stop" not in rest
    # The provider's own view: the connection the stream came over is closed (not left to the OS).
    assert _wait_until(lambda: not fake.connection_open(connection), 15), "the upstream request was left open"


def test_workers_share_the_port(fake: FakeProvider, tmp_path: Path) -> None:
    fake.default = Reply(text="hi")
    with gateway_command(write_config(tmp_path / "gw.toml", fake), "--workers", "2") as command:
        for _ in range(6):
            response = httpx.post(f"{command.url}/v1/chat/completions", json=CHAT, headers={"x-api-key": GATEWAY_KEY}, timeout=60)
            assert response.json()["choices"][0]["message"]["content"] == "hi"
        command.terminate()
        assert command.wait() == 0
