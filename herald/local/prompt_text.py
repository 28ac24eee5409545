"""Message text as the local prompt frames show it: plain text, without Herald's own markers.

Herald adds notes of its own to the history it sends (an interrupted answer ends with
"[interrupted by the user]"; an answer cut by the length limit is followed by a request to
continue). An instruction-tuned model reads them as notes; a small pretrained model copies
them into later answers. The local frames therefore show the text without them.

A request whose last message is the assistant's (text, no tool call) asks to *continue* that
answer (`herald.llm.continuation`: the llama.cpp server's convention, which the `prefix` and
`continue_final_message` flags also mean): the frames leave that turn open, ending with the
partial text, so the model writes what follows it.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from herald.agent.messages import INTERRUPTED_NOTE


def message_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping) and part.get("type") == "text")
    return str(content)


def answer_text(message: Mapping[str, Any]) -> str:
    """An assistant message's text, with Herald's interruption note removed."""
    return message_text(message.get("content")).replace(INTERRUPTED_NOTE.strip(), "").strip()


def continued_answer(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The partial answer a request asks to continue: the text of its last message when that is the
    assistant's, with text and without tool calls; None otherwise (a request for a new answer)."""
    if not messages:
        return None
    last = messages[-1]
    if last.get("role") != "assistant" or last.get("tool_calls"):
        return None
    text = message_text(last.get("content"))
    return text if text.strip() else None


def open_prefix(partial: str) -> tuple[str, str]:
    """The partial answer as an open turn ends with it, and the whitespace left out of it.

    A prompt that ends in whitespace reads to the model as a token it would never write (its
    words carry their leading space), so trailing whitespace is left out of the prompt and
    removed once from the start of the continuation instead (`strip_leading`), where the model
    writes it again: "Paris is the " → prompt "…Paris is the", continuation " capital" → "capital".
    """
    kept = partial.rstrip()
    return kept, partial[len(kept) :]


def strip_leading(result: Any, at_most: int | None) -> Any:
    """`result` (a completion dict or stream chunks) with at most `at_most` leading whitespace
    characters removed from its text (None: all of them)."""
    if isinstance(result, dict):
        for choice in result.get("choices") or ():
            message = choice.get("message") or {}
            if isinstance(message.get("content"), str):
                message["content"] = _strip(message["content"], at_most)[0]
        return result
    return _strip_chunks(result, at_most)


def _strip(text: str, at_most: int | None) -> tuple[str, bool]:
    """`text` without up to `at_most` leading whitespace characters; and whether stripping is done
    (a non-space was reached, or the allowance is used up)."""
    limit = len(text) if at_most is None else min(at_most, len(text))
    cut = 0
    while cut < limit and text[cut].isspace():
        cut += 1
    done = cut < len(text) or (at_most is not None and cut >= at_most)
    return text[cut:], done


def _strip_chunks(chunks: Iterable[dict[str, Any]], at_most: int | None) -> Iterator[dict[str, Any]]:
    left, started = at_most, at_most == 0
    for chunk in chunks:
        if not started:
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                content = delta.get("content")
                if isinstance(content, str) and not started:
                    stripped, started = _strip(content, left)
                    if left is not None:
                        left -= len(content) - len(stripped)
                    delta["content"] = stripped
        yield chunk


def finish_continued(result: Any, messages: Any) -> Any:
    """A chat frame's result: unchanged for a new answer; for a continued one (`continued_answer`),
    without the whitespace its prompt left out (`open_prefix`)."""
    partial = continued_answer(messages or ())
    return result if partial is None else strip_leading(result, len(open_prefix(partial)[1]))
