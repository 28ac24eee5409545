"""`python -m bench.slow_server CHUNKS INTERVAL_MS [first-at-once]`: a loopback provider that holds many slow streams.

Prints its base URL on one line, then serves until its standard input closes. Every
streaming chat-completions request gets CHUNKS content chunks, one every INTERVAL_MS, then a
finish chunk, a usage chunk and `[DONE]`; a plain request gets the same answer as one JSON
completion. `GET /stats` answers how many streams are open now, the peak, and how many
finished or were abandoned by the client (its connection closed mid-stream).

It is a bare asyncio protocol, not a web framework, because the server must not be what is
measured: one ticker writes the next chunk to every open stream at once (a few µs each),
so a thousand streams cost this process a fraction of one core. Run it out of process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from bench.servers import server_process

WORD = "word "


def chat_chunk(delta: dict[str, object], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    body: dict[str, object] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else [],
    }
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@dataclass
class Script:
    """The answer every request gets."""

    chunks: int
    interval: float
    first_at_once: bool = False  # the first chunk on arrival, not at the next tick (a sharp time to first token)

    def __post_init__(self) -> None:
        self.text = WORD * self.chunks
        first = chat_chunk({"role": "assistant", "content": ""})
        self.content = [_chunked((first if i == 0 else b"") + chat_chunk({"content": WORD})) for i in range(self.chunks)]
        usage = {"prompt_tokens": 10, "completion_tokens": self.chunks, "total_tokens": 10 + self.chunks}
        self.tail = _chunked(chat_chunk({}, "stop") + chat_chunk({}, usage=usage) + b"data: [DONE]\n\n") + b"0\r\n\r\n"
        completion = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": "bench-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.text}, "finish_reason": "stop"}],
            "usage": usage,
        }
        self.plain = json.dumps(completion).encode()


@dataclass
class Stats:
    open: int = 0
    peak: int = 0
    started: int = 0
    finished: int = 0
    abandoned: int = 0
    plain: int = 0
    connections: int = 0

    def as_json(self) -> bytes:
        return json.dumps(self.__dict__).encode()


@dataclass(eq=False)  # identity: a stream is one response on one connection
class Stream:
    transport: asyncio.Transport
    sent: int = 0
    done: bool = False


@dataclass
class Server:
    script: Script
    stats: Stats = field(default_factory=Stats)
    streams: set[Stream] = field(default_factory=set)

    def start_stream(self, transport: asyncio.Transport) -> Stream:
        transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        stream = Stream(transport)
        if self.script.first_at_once:
            transport.write(self.script.content[0])
            stream.sent = 1
        self.streams.add(stream)
        self.stats.started += 1
        self.stats.open = len(self.streams)
        self.stats.peak = max(self.stats.peak, self.stats.open)
        return stream

    def end_stream(self, stream: Stream, *, finished: bool) -> None:
        if stream in self.streams:
            self.streams.discard(stream)
            stream.done = True
            self.stats.open = len(self.streams)
            if finished:
                self.stats.finished += 1
            else:
                self.stats.abandoned += 1

    async def tick(self) -> None:
        """Every interval, the next chunk to every open stream (all streams move together)."""
        script = self.script
        next_at = time.monotonic()
        while True:
            next_at += script.interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            for stream in list(self.streams):
                if stream.transport.is_closing():
                    self.end_stream(stream, finished=False)
                    continue
                if stream.sent < script.chunks:
                    stream.transport.write(script.content[stream.sent])
                    stream.sent += 1
                else:
                    stream.transport.write(script.tail)
                    self.end_stream(stream, finished=True)


class Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive: enough of it for the SDKs and aiohttp."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.stream: Stream | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.stats.connections -= 1
        if self.stream is not None:
            self.server.end_stream(self.stream, finished=False)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4 : head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length :]
            self.answer(head.split(" ", 2), body)

    def answer(self, request_line: list[str], body: bytes) -> None:
        assert self.transport is not None
        method, path = request_line[0], request_line[1]
        if method == "GET" and path.endswith("/stats"):
            self.send(200, "application/json", self.server.stats.as_json())
            return
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        if request.get("stream") is True:
            self.stream = self.server.start_stream(self.transport)
        else:
            self.server.stats.plain += 1
            self.send(200, "application/json", self.server.script.plain)

    def send(self, status: int, content_type: str, payload: bytes) -> None:
        assert self.transport is not None
        head = f"HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {len(payload)}\r\n\r\n"
        self.transport.write(head.encode() + payload)


async def serve(chunks: int, interval: float, first_at_once: bool = False) -> None:
    server = Server(Script(chunks, interval, first_at_once))
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: Connection(server), "127.0.0.1", 0, backlog=4096)
    port = listener.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    ticker = asyncio.create_task(server.tick())
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin (or dies)
    ticker.cancel()
    listener.close()


@contextmanager
def slow_server_process(chunks: int, interval_ms: float, *, first_at_once: bool = False) -> Iterator[str]:
    """Run this server in a child process; yield its base URL; stop it on exit."""
    extra = ("first-at-once",) if first_at_once else ()
    with server_process("bench.slow_server", str(chunks), str(interval_ms), *extra) as base_url:
        yield base_url


def stats(base_url: str) -> dict[str, int]:
    """The server's counters (see `Stats`)."""
    with urllib.request.urlopen(f"{base_url}/stats", timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    chunks, interval_ms = int(argv[0]), float(argv[1])
    asyncio.run(serve(chunks, interval_ms / 1000, "first-at-once" in argv[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
