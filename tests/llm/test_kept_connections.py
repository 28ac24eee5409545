"""A request's client is kept for the next request once it ended: one connection, not one per call.

Over real HTTP on every wire; the fake provider reports which client port each request came from.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading

import pytest

from fakeprovider import FakeProvider, Reply
from herald import AsyncClient, LLMResponse
from herald.errors import Interrupted
from herald.llm.idle_clients import IdleClients

from test_every_wire import ANSWER, WIRES, ask, make_agent, streamed


@pytest.mark.parametrize("mode", WIRES)
def test_calls_of_one_agent_share_a_kept_connection(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text=ANSWER), Reply(text=ANSWER), Reply(text=ANSWER))
    agent = make_agent(fake, mode)
    for _ in range(3):
        assert ask(agent).message.content == ANSWER
    assert len({request.connection for request in fake.requests}) == 1
    agent.close()


@pytest.mark.parametrize("mode", WIRES)
def test_a_kept_connection_the_server_closed_is_replaced_without_a_fallback(
    fake: FakeProvider, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The server drops the next request on each kept connection unanswered: that request goes
    # out again on a new connection, as a stream, with no fallback and nothing shown.
    drop = dict(drop_next_on_connection=True)
    fake.enqueue(Reply(text=ANSWER, **drop), Reply(text=ANSWER, **drop), Reply(text=ANSWER))
    agent = make_agent(fake, mode)
    with caplog.at_level(logging.INFO, logger="herald"):
        for _ in range(3):
            response = ask(agent)
            assert response.message.content == ANSWER and response.streamed
    assert streamed(fake) == [True, True, True]
    assert len({request.connection for request in fake.requests}) == 3
    assert sum("kept connection was closed" in r.getMessage() for r in caplog.records) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    agent.close()


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("mode", WIRES)
def test_the_awaited_path_sends_again_on_a_new_connection_too(
    fake: FakeProvider, mode: str, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # The same fault through AsyncClient's shared pool: no retry with backoff, no fallback.
    drop = dict(drop_next_on_connection=True)
    fake.enqueue(Reply(text=ANSWER, **drop), Reply(text=ANSWER, **drop), Reply(text=ANSWER))
    base_url = fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url
    messages = [{"role": "user", "content": "hi"}]

    async def three_calls() -> list[LLMResponse]:
        async with AsyncClient("test/model", base_url=base_url, api_key="sk-kept-000000000000", api_mode=mode, max_retries=0) as client:
            if not stream:
                return [await client.complete(messages) for _ in range(3)]
            answers = []
            for _ in range(3):
                async for event in client.stream(messages):
                    if event.kind == "done":
                        answers.append(event.response)
            return answers

    with caplog.at_level(logging.INFO, logger="herald"):
        answers = asyncio.run(three_calls())
    assert [answer.message.content for answer in answers] == [ANSWER] * 3
    assert len({request.connection for request in fake.requests}) == 3
    assert sum("kept connection was closed" in r.getMessage() for r in caplog.records) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("mode", WIRES)
def test_an_interrupted_requests_client_is_never_used_again(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text=ANSWER), Reply(text=ANSWER * 5, chunk_chars=3, delay=0.1), Reply(text=ANSWER))
    agent = make_agent(fake, mode)
    ask(agent)  # leaves a kept client behind
    threading.Timer(0.4, agent.interrupt).start()
    with pytest.raises(Interrupted):
        ask(agent)
    agent._interrupt_requested = False  # what the next turn does
    assert ask(agent).message.content == ANSWER
    first, interrupted, after = (request.connection for request in fake.requests)
    assert interrupted == first  # the kept client served the interrupted request...
    assert after != interrupted  # ...and was closed with it, not kept
    agent.close()


class Client:
    """A stand-in SDK client that records being closed."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_kept_clients_are_bounded_per_endpoint() -> None:
    idle = IdleClients(max_idle=2)
    clients = [idle.take("a", Client) for _ in range(3)]
    for client in clients:
        idle.give_back(client)
    assert [c.closed for c in clients] == [0, 0, 1]
    assert idle.take("a", Client) is clients[1] and idle.reused(clients[1])  # most recent first
    assert not idle.reused(idle.take("b", Client))  # another endpoint: a new one


def test_a_dead_kept_client_takes_the_endpoints_other_kept_ones_with_it() -> None:
    idle = IdleClients()
    old = [idle.take("a", Client) for _ in range(3)]
    other = idle.take("b", Client)
    for client in (*old, other):
        idle.give_back(client)
    dead = idle.take("a", Client)
    idle.discard_stale(dead)
    assert all(c.closed == 1 for c in old) and other.closed == 0
    assert not idle.reused(idle.take("a", Client))


def test_abandoned_clients_are_closed_and_kept_ones_close_with_the_owner() -> None:
    idle = IdleClients()
    abandoned, kept = idle.take("a", Client), idle.take("a", Client)
    idle.discard(abandoned)
    idle.give_back(kept)
    assert abandoned.closed == 1 and kept.closed == 0
    assert idle.take("a", Client) is kept
    idle.give_back(kept)
    idle.close()
    assert kept.closed == 1

    forgotten = IdleClients()
    client = forgotten.take("a", Client)
    forgotten.give_back(client)
    del forgotten
    gc.collect()
    assert client.closed == 1
