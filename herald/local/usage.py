"""Token counts for streamed answers from the local server.

llama-cpp-python's server reports `usage` on plain requests only: it ignores
`stream_options.include_usage`. Herald's chat handlers (`herald.local.serve`) therefore end
every stream with the chunk OpenAI sends when asked for usage: no choices, and `usage`
counted with the model's own tokenizer (the prompt as the handler rendered it, and the
answer's text).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator


def with_usage(
    chunks: Iterable[dict[str, Any]], *, prompt_tokens: Callable[[], int], count: Callable[[str], int]
) -> Iterator[dict[str, Any]]:
    """`chunks` as they are, then one chunk with `usage` (none when the stream was empty).

    Args:
        chunks: the handler's stream chunks (chat.completion.chunk dicts).
        prompt_tokens: the prompt's token count (called once, after the stream).
        count: tokens in a text, by the model's tokenizer.
    """
    parts: list[str] = []
    last: dict[str, Any] | None = None
    for chunk in chunks:
        parts.extend(_texts(chunk))
        last = chunk
        yield chunk
    if last is None:
        return
    prompt, completion = prompt_tokens(), count("".join(parts))
    yield {
        "id": last.get("id"),
        "object": "chat.completion.chunk",
        "created": last.get("created"),
        "model": last.get("model"),
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def _texts(chunk: dict[str, Any]) -> Iterator[str]:
    """The generated text a chunk carries: content and tool-call arguments."""
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        if isinstance(delta.get("content"), str):
            yield delta["content"]
        for call in delta.get("tool_calls") or ():
            arguments = (call.get("function") or {}).get("arguments")
            if isinstance(arguments, str):
                yield arguments
