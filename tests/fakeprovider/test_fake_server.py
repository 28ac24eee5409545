"""Provider-level behaviour: scripting queue, recording, options, lifecycle, throughput."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import anthropic
import httpx
import openai
import pytest

from fakeprovider import FakeProvider, Reply

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def ask(client: openai.OpenAI, **kwargs: Any) -> str | None:
    return client.chat.completions.create(model="test/model", messages=kwargs.pop("messages", MESSAGES), **kwargs).choices[0].message.content


def test_base_urls(fake: FakeProvider) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/v1"
    assert fake.anthropic_base_url == f"http://127.0.0.1:{fake.port}"


def test_fifo_repeat_and_default(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="one"), Reply(text="two", repeat=2))
    fake.enqueue(Reply(text="three"))
    fake.default = Reply(text="default answer")
    assert fake.pending == 3
    assert [ask(oai) for _ in range(6)] == ["one", "two", "two", "three", "default answer", "default answer"]
    assert fake.pending == 0


def test_no_scripted_reply_is_500(fake: FakeProvider, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted reply"):
        ask(oai)


def test_requests_are_recorded(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.default = Reply(text="ok")
    before = time.monotonic()
    ask(oai, temperature=0.5)
    list(oai.chat.completions.create(model="test/model", messages=MESSAGES, stream=True))
    first, second = fake.requests
    assert first.path == "/v1/chat/completions" and first.method == "POST"
    assert first.body == {"model": "test/model", "messages": MESSAGES, "temperature": 0.5}
    assert first.headers["authorization"] == "Bearer sk-test-123"
    assert first.headers["content-type"] == "application/json"
    assert (first.stream, second.stream) == (False, True)
    assert before <= first.time <= second.time <= time.monotonic()


def test_api_key_enforced_with_masked_message(fake: FakeProvider) -> None:
    fake.api_key = "sk-right-key-0000"
    fake.default = Reply(text="ok")
    with openai.OpenAI(base_url=fake.base_url, api_key="sk-wrong-key-9876", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as info:
            ask(bad)
    message = str(info.value)
    assert "sk-wrong-key-9876" not in message and "9876" in message and "*" in message
    with openai.OpenAI(base_url=fake.base_url, api_key="sk-right-key-0000", max_retries=0) as good:
        assert ask(good) == "ok"
    # Anthropic style: x-api-key header, or the Bearer token this SDK sends.
    with anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="sk-right-key-0000", max_retries=0) as client:
        assert client.messages.create(model="m", max_tokens=5, messages=MESSAGES).content[0].text == "ok"  # type: ignore[union-attr]
    ok = httpx.post(f"{fake.anthropic_base_url}/v1/messages", json={"model": "m"}, headers={"x-api-key": "sk-right-key-0000"})
    assert ok.status_code == 200
    denied = httpx.post(f"{fake.anthropic_base_url}/v1/messages", json={"model": "m"}, headers={"x-api-key": "nope"})
    assert denied.status_code == 401 and denied.json()["type"] == "error"
    assert httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m"}).status_code == 401


def test_unknown_model_404(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.known_models = {"test/model"}
    fake.default = Reply(text="ok")
    assert ask(oai) == "ok"
    with pytest.raises(openai.NotFoundError) as info:
        oai.chat.completions.create(model="gpt-nope", messages=MESSAGES)
    assert info.value.code == "model_not_found"
    assert info.value.body == {"message": "The model `gpt-nope` does not exist", "type": "invalid_request_error", "param": None, "code": "model_not_found"}
    models = httpx.get(f"{fake.base_url}/models").json()
    assert [m["id"] for m in models["data"]] == ["test/model"]


def test_reject_null_content(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.reject_null_content = True
    fake.default = Reply(text="ok")
    history: Any = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "result"},
    ]
    with pytest.raises(openai.InternalServerError):
        ask(oai, messages=history)
    history[1]["content"] = ""
    assert ask(oai, messages=history) == "ok"


def test_clear_resets_everything(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(text="queued"))
    fake.default = Reply(text="default")
    fake.api_key, fake.known_models, fake.reject_null_content = "k", {"x"}, True
    with pytest.raises(openai.AuthenticationError):
        ask(oai)
    fake.clear()
    assert (fake.requests, fake.pending, fake.default, fake.api_key, fake.known_models, fake.reject_null_content) == ([], 0, None, None, None, False)
    fake.enqueue(Reply(text="fresh"))
    assert ask(oai) == "fresh"


def test_reply_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Reply(fault="explode")
    with pytest.raises(ValueError, match="tool_call_style"):
        Reply(tool_call_style="weird")


def test_unknown_path_404(fake: FakeProvider) -> None:
    assert httpx.post(f"{fake.base_url}/embeddings", json={}).status_code == 404
    assert fake.requests[0].path == "/v1/embeddings"


def test_close_is_prompt_during_stalls() -> None:
    """Long stalls must neither outlive close() for long nor leak sockets (warnings are errors)."""
    fake = FakeProvider().start()
    fake.enqueue(
        Reply(text="a", fault="stall", stall_seconds=30),
        Reply(text="b", fault="stall_first_byte", stall_seconds=30),
        Reply(text="c", fault="keepalive_stall", stall_seconds=30),
        Reply(text="d" * 100, chunk_chars=1, delay=1.0),
    )
    outcomes: list[str] = []

    def client() -> None:
        try:
            with httpx.Client(timeout=60) as http:
                with http.stream("POST", f"{fake.base_url}/chat/completions", json={"model": "m", "stream": True}) as r:
                    for _ in r.iter_bytes():
                        pass
            outcomes.append("ended")
        except httpx.HTTPError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.1)  # keep queue order == thread order
    deadline = time.monotonic() + 5
    while len(fake.requests) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.close()
    for t in threads:
        t.join(5)
    assert time.monotonic() - started < 3
    assert len(outcomes) == 4


@pytest.mark.parametrize("fault", ["stall", "stall_first_byte", "keepalive_stall"])
def test_a_stalled_reply_frees_its_connection_when_the_client_hangs_up(fake: FakeProvider, fault: str) -> None:
    # Otherwise an abandoned stall holds its connection for stall_seconds, into later tests.
    fake.enqueue(Reply(text="a", fault=fault, stall_seconds=30))
    body = b'{"model": "m", "stream": true}'
    host, port = fake.base_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        if fault != "stall_first_byte":
            assert sock.recv(1)  # the stream has begun
        deadline = time.monotonic() + 3
        while not fake.live_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.live_connections == 1
    deadline = time.monotonic() + 3
    while fake.live_connections and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.live_connections == 0


def test_idle_keepalive_connections_do_not_block_close() -> None:
    fake = FakeProvider().start()
    fake.default = Reply(text="ok")
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as client:
        assert ask(client) == "ok"  # leaves a pooled keep-alive connection open
        started = time.monotonic()
        fake.close()
        assert time.monotonic() - started < 1


def test_restart_after_close() -> None:
    fake = FakeProvider()
    with fake:
        first = fake.port
    with fake:
        fake.default = Reply(text="again")
        assert httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m"}).json()["choices"][0]["message"]["content"] == "again"
    assert first > 0


def test_20000_chunk_stream_is_fast(fake: FakeProvider) -> None:
    fake.default = Reply(text="abcd" * 20_000, chunk_chars=4)
    started = time.monotonic()
    with httpx.Client() as http:
        body = http.post(f"{fake.base_url}/chat/completions", json={"model": "m", "stream": True}).content
    elapsed = time.monotonic() - started
    assert body.count(b"data: ") == 20_000 + 2  # chunks + finish + [DONE]
    assert elapsed < 1.5, elapsed


def test_concurrent_requests(fake: FakeProvider) -> None:
    fake.default = Reply(text="hello world", delay=0.05, chunk_chars=2)
    results: list[str] = []

    def worker() -> None:
        with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as client:
            chunks = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            results.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["hello world"] * 5
    assert time.monotonic() - started < 1.5  # served in parallel, not one after another
