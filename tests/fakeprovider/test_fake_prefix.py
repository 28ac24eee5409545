"""The fake continues its scripted answer from an assistant prefix, as vLLM / llama.cpp / DeepSeek
and prefill-accepting Anthropic models do, or refuses prefill with a 400 (real SDKs)."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from fakeprovider import FakeProvider, Reply, cut_then_continue

TEXT = "The quick brown fox jumps over the lazy dog."
USER: Any = [{"role": "user", "content": "hi"}]


def chat_text(client: openai.OpenAI, messages: Any, **extra: Any) -> tuple[str, Any]:
    stream = client.chat.completions.create(
        model="m", messages=messages, stream=True, stream_options={"include_usage": True}, **extra
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = chunk.usage or usage
    return text, usage


def test_chat_prefix_true_gets_the_rest_with_new_tokens_only(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(TEXT, usage=(10, 44)))
    prefix = {"role": "assistant", "content": TEXT[:20], "prefix": True}
    text, usage = chat_text(oai, [*USER, prefix])
    assert text == TEXT[20:]
    assert usage.completion_tokens == 24


def test_chat_continue_final_message_in_the_body(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(TEXT))
    body = {"continue_final_message": True, "add_generation_prompt": False}
    text, _ = chat_text(oai, [*USER, {"role": "assistant", "content": "The quick"}], extra_body=body)
    assert text == TEXT[len("The quick") :]


def test_a_trailing_assistant_message_without_the_flags_is_history(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(TEXT))
    text, _ = chat_text(oai, [*USER, {"role": "assistant", "content": "The quick"}])
    assert text == TEXT


def test_anthropic_prefill_gets_the_rest(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(TEXT, usage=(10, 44)))
    prefill = {"role": "assistant", "content": [{"type": "text", "text": "The quick brown"}]}
    message = anth.messages.create(model="c", max_tokens=100, messages=[*USER, prefill])
    assert message.content[0].text == " fox jumps over the lazy dog."  # type: ignore[union-attr]
    assert message.usage.output_tokens == 29


def test_reject_prefill_is_a_400_like_newer_claude(fake: FakeProvider, anth: anthropic.Anthropic) -> None:
    fake.enqueue(Reply(TEXT, reject_prefill=True))
    prefill = {"role": "assistant", "content": "The quick"}
    with pytest.raises(anthropic.BadRequestError) as caught:
        anth.messages.create(model="c", max_tokens=100, messages=[*USER, prefill])
    assert "does not support assistant message prefill" in str(caught.value)


def test_reject_prefill_leaves_a_new_answer_alone(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(TEXT, reject_prefill=True))
    assert chat_text(oai, USER)[0] == TEXT


def test_echo_prefix_sends_the_prefix_again(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(Reply(TEXT, echo_prefix=True))
    text, _ = chat_text(oai, [*USER, {"role": "assistant", "content": "The quick", "prefix": True}])
    assert text == TEXT


def test_cut_then_continue(fake: FakeProvider, oai: openai.OpenAI) -> None:
    fake.enqueue(*cut_then_continue(TEXT, after=3))
    got = ""
    for chunk in oai.chat.completions.create(model="m", messages=USER, stream=True):  # ends early, silently
        if chunk.choices and chunk.choices[0].delta.content:
            got += chunk.choices[0].delta.content
    assert got == TEXT[:12]
    text, _ = chat_text(oai, [*USER, {"role": "assistant", "content": got, "prefix": True}])
    assert got + text == TEXT
