"""N concurrent streams, read by one contender in its own process: `python -m bench.concurrent_contenders NAME N URL`.

Prints one JSON line: wall seconds for all N streams (started together with `asyncio.gather`),
the process's CPU seconds over that time, chunks read, streams that came up short, and how
many streams the server still held open once the contender was done (asked before it exits). Each contender is a
way to read the same chat-completions streams from `bench.slow_server`:

- `sdk-httpx`: the bare `AsyncOpenAI` stream loop, the SDK's default transport (httpx2);
- `sdk-aiohttp`: the same loop over `openai.DefaultAioHttpClient` (`openai[aiohttp]`);
- `raw-httpx` / `raw-aiohttp`: the SDK's `with_streaming_response` (its auth, URL, headers,
  status errors), bytes split into SSE events by hand, each payload decoded with msgspec (Herald's decoder);
- `herald`: one `AsyncAIAgent`, N `stream()` conversations (no tools offered, no session store);
- `herald-client`: `herald.AsyncClient`, the public transport: N `client.stream()` calls, text events counted;
- `herald-caller`: Herald's transport without the agent (what `AsyncClient` wraps): N
  `AsyncLLMCaller.stream()` calls on one async client, deltas counted by a `DeltaSink` callback;
- `floor`: aiohttp and msgspec alone, no SDK at all;
- `floor-orjson`: the same with orjson (only when orjson is installed: it is not a dependency).

`cancel` (and `cancel-unsaved`, without a session store) cancels N Herald streams mid-answer instead.

Every contender sizes its pool for N connections, so none is capped by a default.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Coroutine

import aiohttp
import httpx2
import openai

from bench.slow_server import stats
from herald import AsyncAIAgent, AsyncClient
from herald.llm.async_caller import AsyncLLMCaller
from herald.llm.async_clients import make_async_openai_client
from herald.llm.endpoint import resolve_endpoint
from herald.llm.sink import DeltaSink
from herald.llm.wires import wire_for
from herald.sessions import SessionStore
import msgspec

try:
    import orjson
except ImportError:  # not a dependency: the orjson floor runs where it is installed
    orjson = None

MESSAGES = [{"role": "user", "content": "go"}]
_decode = msgspec.json.Decoder().decode
Reader = Callable[[str, int], Coroutine[Any, Any, list[int]]]


async def sse_payloads(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`data:` payloads of an SSE byte stream (enough for the bench: one data line per event)."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        *events, buffer = buffer.split(b"\n\n")
        for event in events:
            if event.startswith(b"data: "):
                yield event[6:]


def _limits(n: int) -> httpx2.Limits:
    return httpx2.Limits(max_connections=n, max_keepalive_connections=n)


async def _sdk(client: openai.AsyncOpenAI) -> int:
    count = 0
    stream = await client.chat.completions.create(model="bench-model", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    async for chunk in stream:  # type: ignore[union-attr]
        if chunk.choices and chunk.choices[0].delta.content:
            count += 1
    return count


async def _raw(client: openai.AsyncOpenAI) -> int:
    count = 0
    create = client.chat.completions.with_streaming_response.create
    async with create(model="bench-model", messages=MESSAGES, stream=True) as response:  # type: ignore[arg-type]
        async for payload in sse_payloads(response.http_response.aiter_raw()):
            if payload == b"[DONE]":
                break
            event = _decode(payload)
            choices = event.get("choices")
            if choices and choices[0]["delta"].get("content"):
                count += 1
    return count


def _sdk_contender(read: Callable[[openai.AsyncOpenAI], Awaitable[int]], aiohttp_transport: bool) -> Reader:
    async def run(base_url: str, n: int) -> list[int]:
        http_client_class = openai.DefaultAioHttpClient if aiohttp_transport else openai.DefaultAsyncHttpxClient
        http_client = http_client_class(limits=_limits(n), timeout=60)
        async with openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0, http_client=http_client) as client:
            return list(await asyncio.gather(*(read(client) for _ in range(n))))

    return run


def _floor_with(decode: Callable[[bytes], Any]) -> Reader:
    """aiohttp and a JSON decoder alone: the floor any Python client on this loop stands on."""

    async def run(base_url: str, n: int) -> list[int]:
        body = msgspec.json.encode({"model": "bench-model", "messages": MESSAGES, "stream": True})
        headers = {"content-type": "application/json", "authorization": "Bearer k"}

        async def one(session: aiohttp.ClientSession) -> int:
            count = 0
            async with session.post(f"{base_url}/chat/completions", data=body, headers=headers) as response:
                async for payload in sse_payloads(response.content.iter_any()):
                    if payload == b"[DONE]":
                        break
                    choices = decode(payload).get("choices")
                    if choices and choices[0]["delta"].get("content"):
                        count += 1
            return count

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n)) as session:
            return list(await asyncio.gather(*(one(session) for _ in range(n))))

    return run


async def _herald_caller(base_url: str, n: int) -> list[int]:
    """N streams through `AsyncLLMCaller` on one async client: Herald's transport, no agent."""
    wire = wire_for("chat_completions")
    endpoint = resolve_endpoint(model="bench-model", base_url=base_url, api_key="k", api_mode="chat_completions")
    caller = AsyncLLMCaller(wire=lambda: wire, endpoint=lambda: (base_url, endpoint.host), secrets=lambda: ("k",))
    kwargs = wire.build_kwargs("bench-model", MESSAGES)

    async def one(client: openai.AsyncOpenAI) -> int:
        count = 0

        def text(_: str) -> None:
            nonlocal count
            count += 1

        await caller.stream_once(client, kwargs, DeltaSink(text_callbacks=[text]), on_cancel=lambda _: None)
        return count

    async with make_async_openai_client(endpoint, timeout=60, max_connections=None) as client:
        return list(await asyncio.gather(*(one(client) for _ in range(n))))


async def _herald_client(base_url: str, n: int) -> list[int]:
    """N streams through `herald.AsyncClient`: the transport as users call it (planner, events, pool)."""
    async with AsyncClient("bench-model", base_url=base_url, api_key="k", api_mode="chat_completions") as client:

        async def one() -> int:
            count = 0
            async for event in client.stream(MESSAGES):
                if event.kind == "text":
                    count += 1
            return count

        return list(await asyncio.gather(*(one() for _ in range(n))))


def _bench_agent(base_url: str, **options: Any) -> AsyncAIAgent:
    """Herald as a batch user runs it: no context files, memory or tools."""
    return AsyncAIAgent(
        model="bench-model", base_url=base_url, api_key="k", skip_context_files=True, skip_memory=True, enabled_toolsets=[], **options
    )


async def _herald(base_url: str, n: int) -> list[int]:
    agent = _bench_agent(base_url, persist_session=False)

    async def one(number: int) -> int:
        count = 0
        async for event in agent.stream("go"):
            if event.kind == "text":
                count += 1
            elif event.kind == "done" and not event.result["completed"]:
                raise RuntimeError(f"conversation {number} failed: {event.result['error']}")
        return count

    async with agent:
        return list(await asyncio.gather(*(one(i) for i in range(n))))


CONTENDERS: dict[str, Reader] = {
    "herald": _herald,
    "sdk-httpx": _sdk_contender(_sdk, aiohttp_transport=False),
    "sdk-aiohttp": _sdk_contender(_sdk, aiohttp_transport=True),
    "raw-httpx": _sdk_contender(_raw, aiohttp_transport=False),
    "raw-aiohttp": _sdk_contender(_raw, aiohttp_transport=True),
    "herald-client": _herald_client,
    "herald-caller": _herald_caller,
    "floor": _floor_with(_decode),
}
if orjson is not None:
    CONTENDERS["floor-orjson"] = _floor_with(orjson.loads)


def measure(name: str, n: int, base_url: str) -> dict[str, Any]:
    """Run one contender over N streams; wall and CPU seconds, chunks read."""
    reader = CONTENDERS[name]
    started, cpu = time.perf_counter(), time.process_time()
    counts = asyncio.run(reader(base_url, n))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    time.sleep(0.1)  # the server notices a closed connection at once; give it a moment anyway
    return {
        "name": name,
        "n": n,
        "wall": wall,
        "cpu": cpu,
        "chunks": sum(counts),
        "short": sum(1 for count in counts if count != max(counts)),
        # Asked before this process exits (which would close everything anyway).
        "left_open": stats(base_url)["open"],
    }


async def _cancel_latencies(base_url: str, n: int, *, saved: bool = True) -> list[float]:
    """N streaming conversations, each cancelled mid-answer at its own moment; seconds each
    cancellation took to finish (the task done: connection closed, partial kept). `saved`: the
    partials are written to a session store, as in real use (else no store at all)."""
    folder = tempfile.mkdtemp(prefix="herald-bench-")
    store = {"session_store": SessionStore(Path(folder) / "sessions.db")} if saved else {"persist_session": False}
    agent = _bench_agent(base_url, **store)

    async def consume(started: asyncio.Event) -> None:
        async for event in agent.stream("go"):
            if event.kind == "text":
                started.set()

    async def one(number: int) -> float:
        started = asyncio.Event()
        task = asyncio.create_task(consume(started))
        await started.wait()
        await asyncio.sleep(0.05 + (number * 0.37 % 1.0) * 0.2)  # somewhere early in the answer (quick: 0.3 s)
        begun = time.perf_counter()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return time.perf_counter() - begun

    try:
        return list(await asyncio.gather(*(one(i) for i in range(n))))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_cancel(n: int, base_url: str, *, saved: bool = True) -> dict[str, Any]:
    """Cancellation latencies for N concurrent streams, and what the server still holds after."""
    latencies = asyncio.run(_cancel_latencies(base_url, n, saved=saved))
    time.sleep(0.1)
    return {"name": "cancel", "n": n, "latencies": latencies, "left_open": stats(base_url)["open"]}


def main(argv: list[str]) -> int:
    name, n, base_url = argv[0], int(argv[1]), argv[2]
    if name in ("cancel", "cancel-unsaved"):
        result = measure_cancel(n, base_url, saved=name == "cancel")
    else:
        result = measure(name, n, base_url)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
