"""herald.Client and herald.AsyncClient over real HTTP (the loopback fake provider), on every wire.

One reliable call without an agent: the answer, streamed events, the planner's failover and
retries, attempt records, tools passed through, cancellation closing the connection.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import aclosing
from typing import Any, Iterator

import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from herald import AsyncClient, Client, Interrupted, ProviderError
from herald.llm.events import CallEvent

KEY = "herald-client-secret-9a7c3e1f"
WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
WEATHER = {
    "type": "function",
    "function": {"name": "weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


def url(fake: FakeProvider, mode: str) -> str:
    return fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url


def options(fake: FakeProvider, mode: str, **more: Any) -> dict[str, Any]:
    return dict(base_url=url(fake, mode), api_key=KEY, api_mode=mode, max_retries=0, **more)


def posts(fake: FakeProvider) -> list[bool]:
    return [r.stream for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize("mode", WIRES)
def test_complete_returns_the_one_response_type(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text="Paris.", reasoning="easy", usage=(12, 3)))
    with Client("test/model", **options(fake, mode)) as client:
        response = client.complete(MESSAGES, max_tokens=50, temperature=0)
    assert response.message.content == "Paris." and response.finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (12, 3)
    assert response.extras["answered_by"]["model"] == "test/model"
    assert [r.outcome for r in response.extras["attempts"]] == ["ok"]
    body = fake.requests[-1].body
    assert body.get("temperature") == 0 and KEY not in repr(response)


@pytest.mark.parametrize("mode", WIRES)
def test_stream_yields_events_ending_with_the_response(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text="streamed in pieces", chunk_chars=3))
    client = Client("test/model", **options(fake, mode))
    events = list(client.stream(MESSAGES))
    assert [e.kind for e in events][-2:] == ["attempt", "done"]
    assert "".join(e.text for e in events if e.kind == "text") == "streamed in pieces"
    assert events[-1].response.message.content == "streamed in pieces" and events[-1].response.streamed  # type: ignore[union-attr]
    assert posts(fake) == [True]


@pytest.mark.parametrize("mode", WIRES)
def test_tools_are_passed_through_and_tool_calls_returned_never_run(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(tool_calls=[ToolCallSpec("weather", '{"city": "Paris"}')]))
    response = Client("test/model", **options(fake, mode)).complete(MESSAGES, tools=[WEATHER])
    assert response.finish_reason == "tool_calls"
    call = response.message.tool_calls[0]
    assert call.function.name == "weather" and call.function.arguments == '{"city": "Paris"}'
    assert "weather" in repr(fake.requests[-1].body.get("tools"))


@pytest.mark.parametrize("mode", WIRES)
def test_async_complete_and_stream(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text="plain answer"), Reply(text="streamed answer", chunk_chars=4))

    async def main() -> tuple[Any, list[CallEvent]]:
        async with AsyncClient("test/model", **options(fake, mode)) as client:
            plain = await client.complete(MESSAGES)
            async with aclosing(client.stream(MESSAGES)) as stream:
                events = [event async for event in stream]
            assert client.open_pools == 1
        assert client.open_pools == 0
        return plain, events

    plain, events = asyncio.run(main())
    assert plain.message.content == "plain answer" and not plain.streamed
    assert "".join(e.text for e in events if e.kind == "text") == "streamed answer"
    assert events[-1].kind == "done" and events[-1].response.message.content == "streamed answer"  # type: ignore[union-attr]


@pytest.mark.parametrize("use_async", [False, True], ids=["Client", "AsyncClient"])
def test_a_cut_stream_is_reset_and_replaced_and_a_dead_primary_fails_over(fake: FakeProvider, second: FakeProvider, use_async: bool) -> None:
    fake.enqueue(Reply(text="half of it", chunk_chars=2, fault="cut", fault_after=2), Reply(fault="http_error", status=503))
    second.default = Reply(text="the fallback answers")
    records: list[Any] = []
    settings = options(fake, "chat_completions", fallback=[{"model": "m2", "base_url": second.base_url, "api_key": "k2"}])
    settings["attempt_callback"] = records.append

    if use_async:
        async def main() -> list[CallEvent]:
            client = AsyncClient("m1", **settings)
            return [event async for event in client.stream(MESSAGES)]

        events = asyncio.run(main())
    else:
        events = list(Client("m1", **settings).stream(MESSAGES))
    kinds = [e.kind for e in events]
    assert kinds.count("reset") == 1 and kinds.index("reset") > kinds.index("text")
    after = kinds[kinds.index("reset"):]
    assert "".join(e.text for e, k in zip(events[kinds.index("reset"):], after) if k == "text") == "the fallback answers"  # type: ignore[union-attr]
    response = events[-1].response  # type: ignore[union-attr]
    assert response.extras["answered_by"]["model"] == "m2"
    assert [(r.mode, r.outcome, r.next) for r in records] == [
        ("stream", "stream_failed", "plain"),
        ("plain", "server_error", "fallback"),
        ("stream", "ok", None),
    ]
    assert posts(fake) == [True, False] and posts(second) == [True]


def test_every_provider_failing_raises_one_error_naming_each(fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(fault="http_error", status=503, error_message="overloaded")
    second.default = Reply(fault="http_error", status=500, error_message="internal")
    client = Client("m1", **options(fake, "chat_completions", fallback=[{"model": "m2", "base_url": second.base_url, "api_key": "k2"}]))
    with pytest.raises(ProviderError) as caught:
        client.complete(MESSAGES)
    assert str(caught.value).startswith("all 2 providers failed (")
    assert "503 overloaded" in str(caught.value) and "500 internal" in str(caught.value)
    assert KEY not in str(caught.value) and "k2" not in str(caught.value)


def test_interrupt_returns_at_once_and_closes_the_connection(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="slow " * 50, chunk_chars=5, delay=0.1))
    client = Client("test/model", **options(fake, "chat_completions"))
    marks: dict[str, float] = {}

    def interrupt() -> None:
        time.sleep(0.3)
        marks["at"] = time.monotonic()
        client.interrupt()

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(Interrupted):
        client.complete(MESSAGES, on_event=lambda event: None)
    assert time.monotonic() - marks["at"] < 0.5
    deadline = time.monotonic() + 2
    while fake.connection_open(fake.requests[-1].connection) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not fake.connection_open(fake.requests[-1].connection)


def test_leaving_an_async_stream_early_cancels_the_call_and_closes_its_connection(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="word " * 100, chunk_chars=5, delay=0.05))

    async def main() -> None:
        async with AsyncClient("test/model", **options(fake, "chat_completions")) as client:
            async with aclosing(client.stream(MESSAGES)) as stream:
                async for event in stream:
                    if event.kind == "text":
                        break
            for _ in range(100):
                if not fake.connection_open(fake.requests[-1].connection):
                    return
                await asyncio.sleep(0.02)
            raise AssertionError("the upstream connection stayed open")

    asyncio.run(main())


def test_many_concurrent_async_calls_share_one_client(fake: FakeProvider) -> None:
    fake.default = Reply(text="same answer", chunk_chars=4, delay=0.01)

    async def main() -> list[str]:
        async with AsyncClient("test/model", **options(fake, "chat_completions")) as client:
            async def one(i: int) -> str:
                text = ""
                async for event in client.stream([{"role": "user", "content": f"q{i}"}]):
                    if event.kind == "text":
                        text += event.text
                return text

            return await asyncio.gather(*(one(i) for i in range(50)))

    assert asyncio.run(main()) == ["same answer"] * 50
