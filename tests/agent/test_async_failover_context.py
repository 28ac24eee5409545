"""AsyncAIAgent behaves as AIAgent does where the sync agent decides: failover (providers and key
pools, `answered_by`), the context budget (the retry once on overflow, a message that alone does
not fit), `truncated` and `usage`. Over real HTTP, two fake providers where failover needs two.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

import pytest

from fakeprovider import FakeProvider, Reply
from herald import AIAgent, AsyncAIAgent

WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]
KEY = "sk-async-failover-primary-7f3a"
FALLBACK_KEY = "sk-async-failover-second-91c2"


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


def url(fake: FakeProvider, mode: str) -> str:
    return fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url


def settings(fake: FakeProvider, mode: str = "chat_completions", **options: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        model="test/model", base_url=url(fake, mode), api_key=KEY, api_mode=mode,
        skip_context_files=True, skip_memory=True, quiet_mode=True, max_retries=0, persist_session=False,
    )
    values.update(options)
    return values


def with_fallback(fake: FakeProvider, second: FakeProvider, mode: str, **options: Any) -> dict[str, Any]:
    fallback = {"model": "second/model", "base_url": url(second, mode), "api_key": FALLBACK_KEY, "api_mode": mode}
    return settings(fake, mode, fallback=[fallback], **options)


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


# ── failover ───────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_a_dead_primary_fails_over_with_the_sync_agents_answered_by(fake: FakeProvider, second: FakeProvider, mode: str) -> None:
    fake.default = Reply(fault="http_error", status=503, error_message="upstream error")
    second.default = Reply(text="the second provider answers")
    result = asyncio.run(AsyncAIAgent(**with_fallback(fake, second, mode)).run_conversation("hi"))
    sync = AIAgent(**with_fallback(fake, second, mode)).run_conversation("hi")
    assert result["completed"] and result["final_response"] == "the second provider answers"
    assert result["answered_by"] == sync["answered_by"]
    assert result["answered_by"]["model"] == "second/model"
    (skipped,) = result["answered_by"]["skipped"]
    assert skipped["base_url"] == url(fake, mode) and "503" in skipped["reason"]
    assert json.dumps(second.requests[-1].body).count("second/model") == 1  # its own model in its own request


@pytest.mark.parametrize("mode", WIRES)
def test_text_of_a_provider_that_failed_mid_stream_is_reset_before_the_next_answers(
    fake: FakeProvider, second: FakeProvider, mode: str
) -> None:
    # The primary streams some words and is cut, then its plain request fails too: the fallback answers.
    fake.enqueue(Reply(text="the primary's words, cut short " * 3, fault="cut", fault_after=3))
    fake.default = Reply(fault="http_error", status=502)
    second.default = Reply(text="the complete answer from the fallback", chunk_chars=5)
    text, resets, result = asyncio.run(shown(AsyncAIAgent(**with_fallback(fake, second, mode)), "go"))
    assert text == result["final_response"] == "the complete answer from the fallback"
    assert resets == 1 and result["answered_by"]["model"] == "second/model"


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


def test_an_interrupt_never_fails_over(fake: FakeProvider, second: FakeProvider) -> None:
    fake.default = Reply(text="word " * 300, chunk_chars=5, delay=0.03)
    second.default = Reply(text="must not be asked")
    agent = AsyncAIAgent(**with_fallback(fake, second, "chat_completions"))

    async def main() -> None:
        seen = asyncio.Event()

        async def consume() -> None:
            async for event in agent.stream("talk"):
                if event.kind == "text":
                    seen.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(seen.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert second.requests == []


# ── the context budget ─────────────────────────────────────────────────


@pytest.mark.parametrize("mode", WIRES)
def test_an_overflowing_history_is_sent_once_more_under_the_learned_window(fake: FakeProvider, mode: str) -> None:
    fake.context_window = 3000
    fake.default = Reply(text="Four.")
    old = "lorem ipsum dolor sit amet " * 4000
    history = [{"role": "user", "content": old}, {"role": "assistant", "content": "noted"}]
    notes: list[str] = []
    agent = AsyncAIAgent(**settings(fake, mode, notice_callback=notes.append))
    result = asyncio.run(agent.run_conversation("What is 2+2?", conversation_history=history))
    assert result["completed"] and result["final_response"] == "Four.", result["error"]
    assert agent.core.max_context_tokens == 3000  # learned from the provider's words
    assert "lorem" not in json.dumps(fake.requests[-1].body)
    assert notes and "left out" in notes[0]
    sent = len(fake.requests)
    fake.requests.clear()
    sync = AIAgent(**settings(fake, mode)).run_conversation("What is 2+2?", conversation_history=history)
    assert sync["final_response"] == "Four." and len(fake.requests) == sent  # the same requests as the sync agent


def test_a_message_that_alone_does_not_fit_fails_before_sending(fake: FakeProvider) -> None:
    fake.default = Reply(text="never")
    agent = AsyncAIAgent(**settings(fake, max_context_tokens=2000))
    result = asyncio.run(agent.run_conversation("lorem ipsum " * 5000))
    sync = AIAgent(**settings(fake, max_context_tokens=2000)).run_conversation("lorem ipsum " * 5000)
    assert result["failed"] and result["error_type"] == "ContextOverflow" == sync["error_type"]
    assert result["error"] == sync["error"] and fake.requests == []


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
