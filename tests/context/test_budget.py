"""The context budget: recognising the three wires' context-length errors, fitting a history."""

from __future__ import annotations

from typing import Any

import pytest

from herald.context.budget import (
    CUT_TO_CHARS,
    ContextBudget,
    context_limit_in,
    estimate_tokens,
    is_context_overflow,
    tokens_used_in,
)
from herald.errors import ContextOverflow, ProviderError

# Real messages, as each server words them.
OPENAI = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 tokens. Please reduce the length of the messages."
LLAMA_CPP_PYTHON = (
    "This model's maximum context length is 4096 tokens. However, you requested 6020 tokens "
    "(6010 in the messages, 10 in the completion). Please reduce the length of the messages or completion."
)
LLAMA_CPP_SERVER_BODY = {
    "error": {"code": 400, "message": "the request exceeds the available context size, try increasing it",
              "type": "exceed_context_size_error", "n_prompt_tokens": 5210, "n_ctx": 4096}
}
ANTHROPIC = "prompt is too long: 210432 tokens > 200000 maximum"
ANTHROPIC_WITH_MAX_TOKENS = "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000, decrease input length or `max_tokens` and try again"
OPENROUTER = "This endpoint's maximum context length is 131072 tokens. However, you requested about 250000 tokens (250000 of text input)."


def provider_error(status: int, message: str, body: Any = None) -> ProviderError:
    return ProviderError(f"host answered HTTP {status}: {message}", status=status, provider_message=message, body=body)


@pytest.mark.parametrize(
    ("message", "body", "limit", "used"),
    [
        (OPENAI, None, 8192, 9120),
        (LLAMA_CPP_PYTHON, None, 4096, 6010),
        ("the request exceeds the available context size, try increasing it", LLAMA_CPP_SERVER_BODY, 4096, 5210),
        (ANTHROPIC, None, 200000, 210432),
        (ANTHROPIC_WITH_MAX_TOKENS, None, 200000, 197000),
        (OPENROUTER, None, 131072, 250000),
    ],
)
def test_context_length_errors_of_every_wire_are_recognised_with_their_numbers(
    message: str, body: Any, limit: int, used: int
) -> None:
    error = provider_error(400, message, body)
    assert is_context_overflow(error)
    budget = ContextBudget()
    budget.last_sent = used  # as if our estimate had been exact
    assert budget.learn(error)
    assert budget.limit == limit
    assert budget.scale == pytest.approx(1.0)


def test_numbers_are_read_from_the_text() -> None:
    assert context_limit_in(OPENAI) == 8192 and tokens_used_in(OPENAI) == 9120
    assert context_limit_in("Requested tokens (6010) exceed context window of 4096") == 4096
    assert tokens_used_in("Requested tokens (6010) exceed context window of 4096") == 6010


@pytest.mark.parametrize(
    "error",
    [
        provider_error(400, "Invalid value for 'temperature'"),
        provider_error(429, "Rate limit reached: too many tokens per minute"),  # a rate limit, not the window
        provider_error(401, "Incorrect API key provided"),
        ValueError("maximum context length"),
    ],
)
def test_other_errors_are_not_context_errors(error: BaseException) -> None:
    assert not is_context_overflow(error)
    assert not ContextBudget().learn(error)


def test_a_413_is_a_request_too_large() -> None:
    assert is_context_overflow(provider_error(413, "Request too large."))


def turn(question: str, answer: str, tool_output: str | None = None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    if tool_output is not None:
        call = {"id": "c", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
        messages += [{"role": "assistant", "content": "", "tool_calls": [call]}, {"role": "tool", "tool_call_id": "c", "content": tool_output}]
    return messages + [{"role": "assistant", "content": answer}]


def test_an_unknown_window_changes_nothing() -> None:
    history = turn("q" * 100_000, "a") + [{"role": "user", "content": "next"}]
    fitted = ContextBudget().fit("system", history)
    assert fitted.messages == history and fitted.note == ""


def test_old_tool_outputs_are_cut_first_oldest_first() -> None:
    history = turn("one", "a", "x" * 8000) + turn("two", "b", "y" * 8000) + [{"role": "user", "content": "three"}]
    budget = ContextBudget(limit=3500, reserve=100)
    fitted = budget.fit("system", history)
    assert fitted.cut_outputs == 1 and fitted.dropped_turns == 0
    outputs = [m["content"] for m in fitted.messages if m["role"] == "tool"]
    assert outputs[0].startswith("x" * CUT_TO_CHARS) and "7,600 more characters left out" in outputs[0]
    assert outputs[1] == "y" * 8000  # the newer one is whole
    assert history[2]["content"] == "x" * 8000  # the stored history is untouched
    assert fitted.note.startswith("(context: 1 old tool output cut short to fit the model's 3,500 tokens")


def test_then_the_oldest_turns_are_left_out_whole() -> None:
    history = turn("q1 " * 3000, "a1") + turn("q2 " * 3000, "a2") + turn("q3", "a3") + [{"role": "user", "content": "now"}]
    fitted = ContextBudget(limit=2000, reserve=100).fit("system", history)
    assert fitted.dropped_turns == 2
    assert fitted.messages == history[4:]
    assert fitted.messages[0]["role"] == "user"  # the history sent starts with a turn
    assert "2 oldest turns left out" in fitted.note
    assert fitted.tokens <= 2000 - 100


def test_the_current_turn_alone_too_long_is_refused() -> None:
    history = turn("old", "a") + [{"role": "user", "content": "z" * 40_000}]
    with pytest.raises(ContextOverflow, match="current turn is too long") as info:
        ContextBudget(limit=4096, reserve=256).fit("system", history)
    assert info.value.limit == 4096 and info.value.tokens and info.value.tokens > 4096


def test_a_message_that_alone_exceeds_the_window_is_refused_before_sending() -> None:
    budget = ContextBudget(limit=4096, reserve=256)
    budget.check_message("system", "short question")
    with pytest.raises(ContextOverflow, match=r"message is too long .* about 10,00\d tokens, and 3,840 fit"):
        budget.check_message("system", "w" * 40_000)
    ContextBudget().check_message("system", "w" * 400_000)  # unknown window: the provider decides


def test_a_providers_count_corrects_the_estimate() -> None:
    budget = ContextBudget(reserve=10)
    history = [{"role": "user", "content": "word " * 4000}]  # estimated 5,004 tokens
    budget.fit("", history)
    assert budget.learn(provider_error(400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 10008 tokens."))
    assert budget.scale == pytest.approx(2.0, rel=0.01)
    with pytest.raises(ContextOverflow):
        budget.fit("", history)  # 10k of the provider's tokens do not fit in 8k


def test_a_refusal_without_numbers_aims_below_what_was_sent() -> None:
    budget = ContextBudget(reserve=0)
    history = turn("a" * 4000, "b") + [{"role": "user", "content": "c" * 400}]
    budget.fit("", history)
    assert budget.learn(provider_error(400, "Please reduce the length of the messages."))
    assert budget.limit is not None and budget.limit < estimate_tokens(history)
    assert budget.fit("", history).dropped_turns == 1
