"""`with_usage`: a local stream ends with the usage chunk OpenAI sends when asked for usage."""

from __future__ import annotations

from herald.local.usage import with_usage


def chunk(content: str | None = None, *, finish: str | None = None, tool_args: str | None = None) -> dict:
    delta: dict = {}
    if content is not None:
        delta["content"] = content
    if tool_args is not None:
        delta["tool_calls"] = [{"index": 0, "function": {"arguments": tool_args}}]
    return {"id": "c1", "object": "chat.completion.chunk", "created": 7, "model": "gemma",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_the_stream_is_passed_through_then_usage_follows() -> None:
    chunks = [chunk("Par"), chunk("is."), chunk(tool_args='{"a": 1}'), chunk(finish="stop")]
    counted: list[str] = []
    out = list(with_usage(iter(chunks), prompt_tokens=lambda: 91, count=lambda text: counted.append(text) or 4))
    assert out[:4] == chunks
    assert out[4] == {"id": "c1", "object": "chat.completion.chunk", "created": 7, "model": "gemma", "choices": [],
                      "usage": {"prompt_tokens": 91, "completion_tokens": 4, "total_tokens": 95}}
    assert counted == ['Paris.{"a": 1}']


def test_an_empty_stream_gets_no_usage_chunk() -> None:
    assert list(with_usage(iter([]), prompt_tokens=lambda: 1, count=len)) == []
