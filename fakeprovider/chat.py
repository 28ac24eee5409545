"""OpenAI chat completions wire: `chat.completion` and `chat.completion.chunk` encoding."""

from __future__ import annotations

from typing import Any

from .script import Reply
from .sse import CONTENT, END, FINISH, Ctx, Event, StreamPlan, data_line

MALFORMED = b'data: {"choices": [ {not json\n\n'


def _usage(reply: Reply) -> dict[str, Any]:
    prompt, completion = reply.usage
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if reply.cached_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
    if reply.reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
    return usage


def _entry(index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_call_deltas(reply: Reply) -> list[dict[str, Any]]:
    """The `delta.tool_calls[0]` entries of a stream, shaped by `reply.tool_call_style`."""
    style = reply.tool_call_style
    per_call: list[list[dict[str, Any]]] = []
    for i, spec in enumerate(reply.tool_calls):
        call_id = reply.call_id(i)
        if style == "one_chunk":
            per_call.append([_entry(i, call_id, spec.name, spec.arguments)])
            continue
        entries = [_entry(i, call_id, spec.name, "")]
        for piece in reply.pieces(spec.arguments):
            if style == "llamacpp":
                # llama.cpp's server repeats id and name on every argument delta.
                entries.append(_entry(i, call_id, spec.name, piece))
            else:
                entries.append({"index": i, "function": {"arguments": piece}})
        if style == "no_index":
            for entry in entries:
                del entry["index"]
        per_call.append(entries)
    if style != "interleaved":
        return [entry for entries in per_call for entry in entries]
    # Round-robin across calls so argument pieces of different indexes alternate.
    merged: list[dict[str, Any]] = []
    for step in range(max((len(e) for e in per_call), default=0)):
        merged.extend(entries[step] for entries in per_call if step < len(entries))
    return merged


def stream_plan(reply: Reply, ctx: Ctx) -> StreamPlan:
    include_usage = bool((ctx.body.get("stream_options") or {}).get("include_usage"))

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": f"chatcmpl-{ctx.uid}",
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.model,
            "choices": choices,
        }
        if include_usage:
            # With include_usage real OpenAI sends `usage: null` on every chunk but the last.
            obj["usage"] = usage
        return obj

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    deltas: list[dict[str, Any]] = []
    if reply.reasoning:
        deltas += [{"reasoning_content": p} for p in reply.pieces(reply.reasoning)]
    if reply.text or not (reply.reasoning or reply.tool_calls):
        deltas += [{"content": p} for p in reply.pieces(reply.text)]
    deltas += [{"tool_calls": [entry]} for entry in tool_call_deltas(reply)]
    # The role rides on the first content delta so that fault_after=N means exactly N chunks.
    deltas[0] = {"role": "assistant", **deltas[0]}

    events = [Event(data_line(chunk([choice(d)])), CONTENT) for d in deltas]
    events.append(Event(data_line(chunk([choice({}, reply.resolved_finish_reason)])), FINISH))
    if include_usage:
        events.append(Event(data_line(chunk([], _usage(reply))), END))
    events.append(Event(b"data: [DONE]\n\n", END))

    def inband_error(pos: int) -> bytes:
        return data_line({"error": {"message": reply.error_message or "upstream overloaded", "code": 502}})

    def error_finish(pos: int) -> bytes:
        # Some OpenAI-compatible servers end a failed generation with finish_reason "error".
        return data_line(chunk([choice({}, "error")])) + b"data: [DONE]\n\n"

    keepalive = b": keep-alive\n\n" + data_line(chunk([{"index": 0, "delta": {}}]))
    return StreamPlan(
        events=events,
        malformed=MALFORMED,
        inband_error=inband_error,
        keepalive=keepalive,
        terminal={"error_finish": error_finish},
    )


def full_response(reply: Reply, ctx: Ctx) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text if (reply.text or not reply.tool_calls) else None,
    }
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": reply.call_id(i), "type": "function", "function": {"name": s.name, "arguments": s.arguments}}
            for i, s in enumerate(reply.tool_calls)
        ]
    return {
        "id": f"chatcmpl-{ctx.uid}",
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.resolved_finish_reason}],
        "usage": _usage(reply),
    }
