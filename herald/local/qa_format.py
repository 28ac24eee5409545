"""A prompt frame a *pretrained* model follows: a few-shot question-and-answer transcript.

The packaged Gemma 3 270M is the pretrained model, not the instruction-tuned one. Given
Gemma's chat turns it does not answer: it echoes the question and rambles (0 of 20 short
factual questions right, measured; see docs/local-model.md). Given a transcript of questions and
one-line answers, it continues the pattern: the next line after "Answer:" is its answer,
and the newline that ends it is the stop sequence, so answers end at a natural boundary.

The conversation so far becomes earlier questions and answers; system messages are left
out (Herald's own system prompt describes tools and files, and a 270M pretrained model
scores worse with it: 16 rather than 19 of 24 in the same measurement). Tool calls and
results, when tools are offered anyway, appear as plain lines before the next answer.

Pure text in, text out: no llama_cpp import, so it is testable without the extra.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from herald.local.prompt_text import answer_text, continued_answer, message_text, open_prefix, strip_leading

QA_STOP = ["\n"]
"""Stop sequences: an answer is one line."""

FEW_SHOT: tuple[tuple[str, str], ...] = (
    ("What is the capital of Canada?", "Ottawa."),
    ("What is the tallest mountain on Earth?", "Mount Everest."),
    ("How many hours are in a day?", "Twenty-four."),
    ("What is the capital of Italy?", "Rome."),
    ("What colour is grass?", "Green."),
)
"""The examples that set the pattern (none of them is in the quality set)."""

_CONTINUE_PREFIX = "Your answer was cut off by the output limit."


def render_qa(
    messages: Iterable[Mapping[str, Any]],
    *,
    tools: list[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
) -> str:
    """The prompt for `messages`, ending with an open "Answer:" (no <bos>: the server adds it).

    `tools` and `tool_choice` are accepted for the chat handler's signature; a pretrained
    model cannot choose tools, so they are not described (a named `tool_choice` still works:
    the server constrains the output to the tool's JSON schema).
    """
    messages = list(messages)
    partial = continued_answer(messages)
    if partial is not None:
        messages = messages[:-1]  # its text ends the prompt: the answer is continued, not begun again
    blocks = [_exchange(question, [f"Answer: {answer}"]) for question, answer in FEW_SHOT]
    question: str | None = None
    lines: list[str] = []
    for message in messages:
        role = message.get("role")
        if role == "user":
            text = message_text(message.get("content")).strip()
            if text.startswith(_CONTINUE_PREFIX):
                continue  # the answer it asks for continues the previous one
            if question is not None and _answered(lines):
                blocks.append(_exchange(question, lines))
            question, lines = text, []
        elif role == "assistant":
            line = _assistant_line(message)
            if lines and lines[-1].startswith("Answer:") and line.startswith("Answer:"):
                line = lines.pop() + line.removeprefix("Answer:")  # a continued answer is one answer
            lines.append(line)
        elif role in ("tool", "function"):
            lines.append("Tool result: " + _one_line(message_text(message.get("content"))))
    if question is None:
        question = ""
    open_lines = [*lines, "Answer:" if partial is None else "Answer: " + _one_line(open_prefix(partial)[0])]
    blocks.append(f"Question: {question}\n" + "\n".join(open_lines))
    return "\n\n".join(blocks)


def _answered(lines: list[str]) -> bool:
    """An exchange without an answer (a failed turn) is left out: it would teach empty answers."""
    return any(line.startswith("Answer: ") for line in lines)


def _exchange(question: str, lines: list[str]) -> str:
    """A finished question with its lines (tool lines, then "Answer: …")."""
    return f"Question: {question}\n" + "\n".join(line for line in lines if line)


def _assistant_line(message: Mapping[str, Any]) -> str:
    calls = message.get("tool_calls") or ()
    if calls:
        described = []
        for call in calls:
            function = call.get("function") or {}
            described.append(f"{function.get('name', '')} {_one_line(function.get('arguments') or '{}')}")
        return "Tool call: " + "; ".join(described)
    text = _one_line(answer_text(message))
    return f"Answer: {text}" if text else ""


def _one_line(text: str) -> str:
    """Whitespace collapsed: a line break inside an earlier answer would teach empty answers."""
    return " ".join(str(text).split())



def lstrip_answer(result: Any) -> Any:
    """The server's chat result with the answer's leading whitespace removed.

    The frame ends with "Answer:" and the model's first token is " Paris": the space belongs
    to the token. Ending the prompt with "Answer: " instead breaks the model (2 of 24 right,
    measured), so the space is removed from the output. `result` is a completion dict, or an
    iterator of stream chunks (dicts), as llama-cpp-python's chat handlers return them.
    """
    return strip_leading(result, None)


def finish_answer(result: Any, messages: Any) -> Any:
    """The QA frame's result: a new answer without its leading whitespace (`lstrip_answer`); a
    continued one (`continued_answer`) without the whitespace its prompt left out, and no more
    (the continuation of "The capital of" is " France": its space is the answer's)."""
    partial = continued_answer(messages or ())
    if partial is None:
        return lstrip_answer(result)
    return strip_leading(result, len(open_prefix(partial)[1]))
