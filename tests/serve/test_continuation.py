"""A stream cut after content reached the client, through the gateway, with the official SDKs as clients.

Where the provider can continue from the prefix (`continuation = "prefill"` in its table), the
client's one stream simply goes on: the whole answer, nothing repeated at the seam, one finish,
`[DONE]` / `message_stop`. Where it cannot (the default "auto" on a server Herald does not know,
a provider that refuses prefill, a cut inside a tool call), the SDK raises the gateway's in-band
error and never sees the stream end like a complete answer.
"""

from __future__ import annotations

import re
from typing import Any

import anthropic
import httpx
import openai
import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec
from fakeprovider.script import cut_then_continue

from .harness import GATEWAY_KEY, Running

ANSWER = "The quick brown fox jumps over the lazy dog, and then it rests in the shade."
QUESTION = [{"role": "user", "content": "tell me"}]
# (the public model, the provider's wire as the fake records it)
CONTINUING = [("chat-continues", "/chat/completions"), ("claude-continues", "/v1/messages")]


def _openai(gateway: Running) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=GATEWAY_KEY, max_retries=0, timeout=60)


def _anthropic(gateway: Running) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0, timeout=60)


def _openai_stream(gateway: Running, model: str) -> tuple[str, list[Any]]:
    chunks = list(_openai(gateway).chat.completions.create(
        model=model, messages=QUESTION, stream=True, stream_options={"include_usage": True}  # type: ignore[arg-type]
    ))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def _continuation_request(fake: FakeProvider) -> dict[str, Any]:
    (first, second) = fake.requests
    assert first.body["messages"][-1]["role"] == "user"
    return second.body  # type: ignore[no-any-return]


def _continuations(gateway: Running) -> float:
    text = httpx.get(f"{gateway.url}/metrics", headers={"x-api-key": GATEWAY_KEY}, timeout=30).text
    found = re.search(r"^herald_serve_continuations_total (\S+)$", text, re.M)
    assert found, text
    return float(found.group(1))


@pytest.mark.parametrize(("model", "wire"), CONTINUING)
@pytest.mark.parametrize("after", [1, 3, 7])  # "The " ends in a space (Anthropic's prefill cannot carry it)
def test_openai_sdk_sees_one_seamless_answer(fake: FakeProvider, gateway: Running, model: str, wire: str, after: int) -> None:
    fake.enqueue(*cut_then_continue(ANSWER, after=after, usage=(20, 30)))
    text, chunks = _openai_stream(gateway, model)
    assert text == ANSWER  # nothing repeated, nothing lost at the seam
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[0].choices[0].delta.role == "assistant"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.role) == 1  # no second preamble: no reset
    body = _continuation_request(fake)
    assert fake.requests[1].path.endswith(wire)
    prefix = body["messages"][-1]
    assert prefix["role"] == "assistant"  # the continuation asked for the rest, not the whole answer again
    partial = ANSWER[: 4 * after]
    sent = prefix["content"] if isinstance(prefix["content"], str) else prefix["content"][0]["text"]
    assert sent == (partial if wire == "/chat/completions" else partial.rstrip())
    assert _continuations(gateway) == 1


@pytest.mark.parametrize(("model", "wire"), CONTINUING)
@pytest.mark.parametrize("after", [1, 5])
def test_anthropic_sdk_sees_one_seamless_answer(fake: FakeProvider, gateway: Running, model: str, wire: str, after: int) -> None:
    fake.enqueue(*cut_then_continue(ANSWER, after=after, usage=(20, 30)))
    with _anthropic(gateway).messages.stream(model=model, max_tokens=500, messages=QUESTION) as stream:  # type: ignore[arg-type]
        pieces = list(stream.text_stream)
        message = stream.get_final_message()
    assert "".join(pieces) == ANSWER
    assert message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text"]  # one text block: the answer goes on in place
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert fake.requests[1].path.endswith(wire) and _continuation_request(fake)["messages"][-1]["role"] == "assistant"
    assert _continuations(gateway) == 1


def test_a_provider_that_echoes_the_prefix_is_not_repeated(fake: FakeProvider, gateway: Running) -> None:
    fake.enqueue(*cut_then_continue(ANSWER, after=4, echo_prefix=True))
    text, _ = _openai_stream(gateway, "chat-continues")
    assert text == ANSWER


def test_a_stream_cut_twice_is_continued_twice(fake: FakeProvider, gateway: Running) -> None:
    # The first continuation is cut too: the second continues from everything shown so far.
    fake.enqueue(Reply(ANSWER, fault="cut", fault_after=2), Reply(ANSWER, fault="cut", fault_after=3), Reply(ANSWER))
    text, _ = _openai_stream(gateway, "chat-continues")
    assert text == ANSWER
    assert len(fake.requests) == 3
    assert _continuations(gateway) == 2


def _cut_without_continuation(fake: FakeProvider, **reply: Any) -> None:
    fake.enqueue(Reply(ANSWER, fault="cut", fault_after=3, **reply))
    fake.default = Reply(ANSWER)  # a restart would be answered: the client must still not get [DONE]


@pytest.mark.parametrize(("model", "reply"), [
    ("chat", {}),  # "auto" on a server Herald does not know: a restart, which the client cannot take
    ("claude", {}),  # "auto" on Anthropic: newer models refuse prefill, so no continuation
    ("chat-continues", {"reject_prefill": True}),  # the provider refuses: restart
])
def test_openai_sdk_gets_an_error_where_the_answer_cannot_continue(fake: FakeProvider, gateway: Running, model: str, reply: dict[str, Any]) -> None:
    if reply:
        fake.enqueue(Reply(ANSWER, fault="cut", fault_after=3), Reply(ANSWER, **reply))
        fake.default = Reply(ANSWER)
    else:
        _cut_without_continuation(fake)
    shown = ""
    with pytest.raises(openai.APIError) as caught:
        for chunk in _openai(gateway).chat.completions.create(model=model, messages=QUESTION, stream=True):  # type: ignore[arg-type]
            assert chunk.choices[0].finish_reason is None  # the stream never ends like a complete answer
            shown += chunk.choices[0].delta.content or ""
    assert ANSWER.startswith(shown) and shown != ANSWER
    assert "incomplete" in caught.value.message
    assert "prefill" not in caught.value.message and "continue_final_message" not in caught.value.message  # not the refusal
    assert _continuations(gateway) == 0


@pytest.mark.parametrize("model", ["chat", "claude"])
def test_anthropic_sdk_gets_an_error_where_the_answer_cannot_continue(fake: FakeProvider, gateway: Running, model: str) -> None:
    _cut_without_continuation(fake)
    shown = ""
    with pytest.raises(anthropic.APIError) as caught:
        with _anthropic(gateway).messages.stream(model=model, max_tokens=500, messages=QUESTION) as stream:  # type: ignore[arg-type]
            for piece in stream.text_stream:
                shown += piece
    assert ANSWER.startswith(shown) and shown != ANSWER
    assert "incomplete" in str(caught.value)


def test_a_cut_inside_a_tool_call_is_never_continued(fake: FakeProvider, gateway: Running) -> None:
    # A partial tool call is never sent back: the planner restarts, and the client, who has the
    # text before it, gets the in-band error.
    call = ToolCallSpec("weather", '{"city": "Oslo, Norway, the capital"}', id="call_w")
    fake.enqueue(Reply("Looking it up.", tool_calls=[call], fault="cut", fault_after=6, chunk_chars=4))
    fake.default = Reply("Looking it up.", tool_calls=[call])
    with pytest.raises(openai.APIError, match="incomplete"):
        list(_openai(gateway).chat.completions.create(model="chat-continues", messages=QUESTION, stream=True))  # type: ignore[arg-type]
    assert all(r.body["messages"][-1]["role"] == "user" for r in fake.requests)  # no prefix was ever sent
