"""AsyncAIAgent: what concurrent conversations of one instance share (a key pool's lesson), and
`truncated` / `usage` as the sync agent reports them. Over real HTTP.

Failover, key pools and the context budget, one body for both agents: tests/behaviour/.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply
from herald import AIAgent, AsyncAIAgent

WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]
KEY = "sk-async-failover-primary-7f3a"


def url(fake: FakeProvider, mode: str) -> str:
    return fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url


def settings(fake: FakeProvider, mode: str = "chat_completions", **options: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        model="test/model", base_url=url(fake, mode), api_key=KEY, api_mode=mode,
        skip_context_files=True, skip_memory=True, quiet_mode=True, max_retries=0, persist_session=False,
    )
    values.update(options)
    return values


async def shown(agent: AsyncAIAgent, message: str) -> tuple[str, int, dict[str, Any]]:
    """What a reset-honouring consumer ends with, how many resets it saw, and the result."""
    text: list[str] = []
    resets = 0
    result: dict[str, Any] = {}
    async for event in agent.stream(message):
        if event.kind == "text":
            text.append(event.text)
        elif event.kind == "reset":
            resets, text = resets + 1, []
        elif event.kind == "done":
            result = event.result
    return "".join(text), resets, result


# ── key pools, shared by concurrent conversations ──────────────────────


def test_concurrent_conversations_rotate_past_a_refused_key_and_share_what_it_taught(fake: FakeProvider) -> None:
    fake.api_key = "sk-the-good-key-2"
    fake.default = Reply(text="answered with the good key")
    agent = AsyncAIAgent(**settings(fake, api_key=None, api_keys=["sk-the-bad-key-1", "sk-the-good-key-2"]))

    async def main() -> list[tuple[str, int, dict[str, Any]]]:
        async with agent:
            first = await shown(agent, "first")
            return [first, *await asyncio.gather(*(shown(agent, f"c{i}") for i in range(10)))]

    runs = asyncio.run(main())
    assert all(result["final_response"] == "answered with the good key" for _, _, result in runs)
    assert all(result["answered_by"]["skipped"] == [] for _, _, result in runs)  # the primary answered, with its pool
    keys = [request.headers.get("authorization", "") for request in fake.requests]
    # Only the first conversation used the bad key (once: a 401 moves to the next key at once, as
    # the sync agent does); every later one went straight to the good key.
    assert sum("bad" in key for key in keys) == 1 and len(keys) == 12
    assert all("bad" not in key for key in keys[1:])


# ── result fields ──────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_truncated_and_usage_are_the_sync_agents(fake: FakeProvider, mode: str) -> None:
    fake.enqueue(Reply(text="cut at the lim", finish_reason="length", usage=(12, 7)))
    fake.enqueue(Reply(text="cut at the lim", finish_reason="length", usage=(12, 7)))
    turn = asyncio.run(AsyncAIAgent(**settings(fake, mode, max_tokens=5, max_continuations=0)).run_turn("long"))
    sync = AIAgent(**settings(fake, mode, max_tokens=5, max_continuations=0)).run_turn("long")
    assert turn.truncated is sync.truncated
    if mode != "codex_responses":  # (a buffered Responses answer cut at the limit is not marked, sync or async)
        assert turn.truncated is True
    assert turn.usage == sync.usage and turn.usage is not None and turn.usage.completion_tokens == 7
