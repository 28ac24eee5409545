"""The few-shot question-and-answer frame for pretrained models."""

from __future__ import annotations

from typing import Any

from herald.agent.messages import INTERRUPTED_NOTE, for_api
from herald.agent.loop import CONTINUE_PROMPT
from herald.local.chat_format import render_gemma3
from herald.local.qa_format import FEW_SHOT, QA_STOP, finish_answer, lstrip_answer, render_qa

SHOTS = "\n\n".join(f"Question: {q}\nAnswer: {a}" for q, a in FEW_SHOT)


def test_one_question_follows_the_examples_and_ends_with_an_open_answer() -> None:
    prompt = render_qa([{"role": "system", "content": "You are Herald, with tools."}, {"role": "user", "content": "What is the capital of France?"}])
    assert prompt == SHOTS + "\n\nQuestion: What is the capital of France?\nAnswer:"
    assert "Herald" not in prompt  # the system prompt is left out: it makes the small model worse
    assert QA_STOP == ["\n"]


def test_earlier_turns_become_earlier_questions_and_answers_on_one_line() -> None:
    prompt = render_qa(
        [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris.\n\nIt is on the Seine."},
            {"role": "user", "content": "And of Spain?"},
        ]
    )
    assert prompt.endswith("Question: Capital of France?\nAnswer: Paris. It is on the Seine.\n\nQuestion: And of Spain?\nAnswer:")


def test_the_interruption_note_is_never_shown_to_the_model() -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Tell me about bees."},
        {"role": "assistant", "content": "Bees make honey", "interrupted": True},
        {"role": "user", "content": "Go on."},
    ]
    sent = for_api(history)
    assert sent[1]["content"].endswith(INTERRUPTED_NOTE)  # what every provider receives
    for prompt in (render_qa(sent), render_gemma3(sent)):
        assert "interrupted" not in prompt
        assert "Bees make honey" in prompt


def test_a_continued_answer_is_one_answer() -> None:
    prompt = render_qa(
        [
            {"role": "user", "content": "Count."},
            {"role": "assistant", "content": "One, two,"},
            {"role": "user", "content": CONTINUE_PROMPT},
            {"role": "assistant", "content": "three."},
            {"role": "user", "content": "Again?"},
        ]
    )
    assert "Question: Count.\nAnswer: One, two, three.\n\nQuestion: Again?\nAnswer:" in prompt
    assert "cut off" not in prompt


def test_an_unanswered_question_is_left_out() -> None:
    prompt = render_qa([{"role": "user", "content": "First (failed)"}, {"role": "user", "content": "Second"}])
    assert "First" not in prompt
    assert prompt.endswith("Question: Second\nAnswer:")


def test_tool_calls_and_results_are_lines_before_the_answer() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":\n "Paris"}'}}
    prompt = render_qa(
        [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "Sunny,\n21 C"},
        ]
    )
    assert prompt.endswith('Question: Weather in Paris?\nTool call: get_weather {"city": "Paris"}\nTool result: Sunny, 21 C\nAnswer:')


def test_leading_space_is_removed_from_a_plain_answer_and_from_the_first_streamed_text() -> None:
    plain = {"choices": [{"message": {"role": "assistant", "content": " Paris."}}]}
    assert lstrip_answer(plain)["choices"][0]["message"]["content"] == "Paris."
    chunks = [
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": " "}}]},
        {"choices": [{"delta": {"content": " Par"}}]},
        {"choices": [{"delta": {"content": " is"}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
    ]
    texts = [c["choices"][0]["delta"].get("content") for c in lstrip_answer(iter(chunks))]
    assert texts == [None, "", "Par", " is", None]


# ── continuing a cut answer (a trailing assistant message) ──────────────


def test_a_trailing_assistant_message_is_continued_not_answered_again() -> None:
    question = {"role": "user", "content": "What is the capital of France?"}
    cut = {"role": "assistant", "content": "The capital of Fra", "prefix": True}
    prompt = render_qa([question, cut])
    assert prompt == SHOTS + "\n\nQuestion: What is the capital of France?\nAnswer: The capital of Fra"
    assert prompt.count("Answer:") == len(FEW_SHOT) + 1, "no second, empty answer opened after it"
    # A tool call or an empty message is not a partial answer: a new answer is asked for.
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert render_qa([question, {"role": "assistant", "content": "", "tool_calls": [call]}]).endswith("Answer:")


def test_trailing_whitespace_is_left_out_of_the_prompt_and_once_out_of_the_continuation() -> None:
    messages = [{"role": "user", "content": "Capital?"}, {"role": "assistant", "content": "Paris is the "}]
    assert render_qa(messages).endswith("\nAnswer: Paris is the")
    plain = {"choices": [{"message": {"role": "assistant", "content": " capital."}}]}
    assert finish_answer(plain, messages)["choices"][0]["message"]["content"] == "capital."
    chunks = [{"choices": [{"delta": {"content": c}}]} for c in ("", " ", " capital", ".")]
    assert [c["choices"][0]["delta"]["content"] for c in finish_answer(iter(chunks), messages)] == ["", "", " capital", "."]


def test_a_continuation_keeps_its_leading_space_where_the_prompt_had_none() -> None:
    # "The capital of" + " France": the space is the answer's own (a new answer loses it).
    messages = [{"role": "user", "content": "Capital?"}, {"role": "assistant", "content": "The capital of"}]
    chunks = [{"choices": [{"delta": {"content": c}}]} for c in (" France", " is")]
    assert [c["choices"][0]["delta"]["content"] for c in finish_answer(iter(chunks), messages)] == [" France", " is"]
    plain = {"choices": [{"message": {"content": " France."}}]}
    assert finish_answer(plain, messages)["choices"][0]["message"]["content"] == " France."
    assert finish_answer({"choices": [{"message": {"content": " Paris."}}]}, messages[:1])["choices"][0]["message"]["content"] == "Paris."
