"""The async SDK clients see the same wire (Herald's transport may be async)."""

from __future__ import annotations

import asyncio

import anthropic
import openai

from fakeprovider import FakeProvider, Reply, ToolCallSpec


def test_async_openai_chat_and_cut(fake: FakeProvider) -> None:
    fake.enqueue(Reply(text="async hello"), Reply(text="abcdefgh", fault="cut", fault_after=1))

    async def main() -> tuple[str, str, list[str | None]]:
        async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as client:
            full, cut, finishes = "", "", []
            async for chunk in await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True):
                full += chunk.choices[0].delta.content or ""
            async for chunk in await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True):
                cut += chunk.choices[0].delta.content or ""
                finishes.append(chunk.choices[0].finish_reason)
            return full, cut, finishes

    assert asyncio.run(main()) == ("async hello", "abcd", [None])


def test_async_responses_and_anthropic(fake: FakeProvider) -> None:
    fake.default = Reply(text="both", tool_calls=[ToolCallSpec("f", '{"k": 1}')])

    async def main() -> tuple[str, object]:
        async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as client:
            async with client.responses.stream(model="m", input="hi") as s:
                text = (await s.get_final_response()).output_text
        async with anthropic.AsyncAnthropic(base_url=fake.anthropic_base_url, api_key="k", max_retries=0) as aclient:
            async with aclient.messages.stream(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]) as ms:
                message = await ms.get_final_message()
        return text, message.content[-1].input  # type: ignore[union-attr]

    assert asyncio.run(main()) == ("both", {"k": 1})
