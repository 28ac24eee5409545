"""The async clients' transport: streams read straight from aiohttp, a compressed one decoded, errors Herald's."""

from __future__ import annotations

import asyncio
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from herald.errors import IncompleteStream

from fakeprovider import FakeProvider, Reply
from herald.errors import ProviderUnreachable
import aiohttp

from herald.llm.aiohttp_transport import AIOHTTP_RESPONSE, body_chunks
from herald.llm.async_caller import AsyncLLMCaller
from herald.llm.async_clients import make_async_openai_client
from herald.llm.async_stream_loop import open_stream
from herald.llm.endpoint import resolve_endpoint
from herald.llm.openai_chat import ChatCompletionsWire
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse

MESSAGES = [{"role": "user", "content": "hi"}]


def stream_through_herald(base_url: str) -> tuple[LLMResponse, list[str]]:
    """One streamed chat answer through `AsyncLLMCaller` on Herald's async client; the answer and the deltas shown."""
    wire = ChatCompletionsWire()
    caller = AsyncLLMCaller(wire=lambda: wire, endpoint=lambda: (base_url, "loopback"), secrets=lambda: ("k",))
    endpoint = resolve_endpoint(model="m", base_url=base_url, api_key="k", api_mode=None)
    shown: list[str] = []

    async def main() -> LLMResponse:
        client = make_async_openai_client(endpoint, timeout=30, max_connections=None)
        try:
            kwargs = wire.build_kwargs("m", list(MESSAGES))
            return await caller.stream_once(client, kwargs, DeltaSink(text_callbacks=[shown.append]), on_cancel=lambda _: None)
        finally:
            await client.close()

    return asyncio.run(main()), shown


def test_the_body_of_an_async_stream_is_read_from_aiohttp_itself(fake: FakeProvider) -> None:
    fake.default = Reply(text="straight from aiohttp", chunk_chars=100)
    endpoint = resolve_endpoint(model="m", base_url=fake.base_url, api_key="k", api_mode=None)

    async def main() -> tuple[bool, str]:
        async with make_async_openai_client(endpoint, timeout=30, max_connections=None) as client:
            async with open_stream(client, "/chat/completions", {"model": "m", "messages": MESSAGES}) as response:
                chunks = body_chunks(response)
                assert type(chunks).__module__.startswith("aiohttp")  # not the SDK's iter_bytes
                body = b"".join([chunk async for chunk in chunks])
                return isinstance(response.extensions.get(AIOHTTP_RESPONSE), aiohttp.ClientResponse), body.decode()

    on_aiohttp, body = asyncio.run(main())
    assert on_aiohttp and "straight" in body and body.rstrip().endswith("data: [DONE]")


def test_a_stream_answers_through_the_caller(fake: FakeProvider) -> None:
    fake.default = Reply(text="every word of it, once", chunk_chars=3)
    answer, shown = stream_through_herald(fake.base_url)
    assert answer.message.content == "every word of it, once" and "".join(shown) == answer.message.content and len(shown) > 3


@pytest.mark.parametrize("fault", ["cut", "reset"])
def test_a_body_cut_short_is_a_herald_error_not_aiohttps(fake: FakeProvider, fault: str) -> None:
    # A Herald error (a cut stream, which the planner answers with a plain request or a
    # continuation): an aiohttp exception escaping the read would end the call instead.
    fake.enqueue(Reply(text="cut somewhere in the middle", fault=fault, fault_after=2))
    with pytest.raises(IncompleteStream):
        stream_through_herald(fake.base_url)


def test_the_raw_read_raises_aiohttp_errors_as_transport_errors(fake: FakeProvider) -> None:
    from herald.llm.sdk_errors import translate_errors

    fake.default = Reply(text="reset somewhere in the middle", fault="reset", fault_after=2)
    endpoint = resolve_endpoint(model="m", base_url=fake.base_url, api_key="k", api_mode=None)
    wire = ChatCompletionsWire()

    async def main() -> None:
        from herald.llm.accumulate import StreamAccumulator
        from herald.llm.async_stream_loop import read_sse_async

        async with make_async_openai_client(endpoint, timeout=30, max_connections=None) as client:
            with translate_errors(where="loopback"):
                kwargs = wire.stream_kwargs(wire.build_kwargs("m", MESSAGES), stream_options=True)
                async with open_stream(client, wire.stream_path, kwargs) as response:
                    await read_sse_async(response, wire.reader(StreamAccumulator(), DeltaSink()), None)

    with pytest.raises(ProviderUnreachable, match="loopback: connection failed"):
        asyncio.run(main())


# A gzip-compressed event stream: aiohttp's bytes are compressed, so the loop must read it decoded.
_EVENTS = b"".join(
    b'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}\n\n'
    % word
    for word in (b"zipped ", b"and ", b"whole")
) + (
    b'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


class _Gzipped(BaseHTTPRequestHandler):
    """Answers every POST with the gzipped stream, and notes the request line's target."""

    targets: list[str] = []

    def do_POST(self) -> None:
        self.targets.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = gzip.compress(_EVENTS)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def gzip_server() -> Iterator[str]:
    _Gzipped.targets = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_compressed_stream_is_decoded(gzip_server: str) -> None:
    answer, shown = stream_through_herald(gzip_server + "/v1")
    assert answer.message.content == "zipped and whole" and "".join(shown) == "zipped and whole"


def test_a_proxy_from_the_environment_is_used(gzip_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx2 ignores the environment once given a transport; the aiohttp session must read it.
    monkeypatch.setenv("HTTP_PROXY", gzip_server)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    answer, _ = stream_through_herald("http://provider.invalid/v1")
    assert answer.message.content == "zipped and whole"
    assert _Gzipped.targets == ["http://provider.invalid/v1/chat/completions"]  # an absolute-form request: a proxy's
