"""Anthropic Messages wire: Message objects and the `message_*` / `content_block_*` stream."""

from __future__ import annotations

import json
from typing import Any

from .script import Reply
from .sse import CONTENT, FINISH, HEAD, STRUCT, Ctx, Event, StreamPlan, named

MALFORMED = b'event: content_block_delta\ndata: {"type": "content_block_delta", {not json\n\n'

STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "content_filter": "refusal"}


def stop_reason(reply: Reply) -> str:
    reason = reply.resolved_finish_reason
    return STOP_REASONS.get(reason, reason)


def _signature(ctx: Ctx) -> str:
    return f"fake-signature-{ctx.uid}"


def _tool_input(arguments: str) -> Any:
    # A Message carries parsed input; keep unparsable scripted arguments visible rather than crash.
    try:
        return json.loads(arguments) if arguments else {}
    except ValueError:
        return {"_unparsed_arguments": arguments}


def full_response(reply: Reply, ctx: Ctx) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.reasoning:
        content.append({"type": "thinking", "thinking": reply.reasoning, "signature": _signature(ctx)})
    if reply.text or not reply.tool_calls:
        content.append({"type": "text", "text": reply.text})
    for i, spec in enumerate(reply.tool_calls):
        tool_input = _tool_input(spec.arguments)
        content.append({"type": "tool_use", "id": reply.call_id(i), "name": spec.name, "input": tool_input})
    _, completion = reply.usage
    return {
        "id": f"msg_{ctx.uid}",
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": stop_reason(reply),
        "stop_sequence": None,
        "usage": usage_counts(reply, completion),
    }


def usage_counts(reply: Reply, output_tokens: int) -> dict[str, int]:
    """Anthropic's usage: tokens read from or written to the cache are counted apart from `input_tokens`."""
    prompt, _ = reply.usage
    cached, written = reply.cached_tokens, reply.cache_write_tokens
    usage = {"input_tokens": prompt - (cached or 0) - (written or 0), "output_tokens": output_tokens}
    if cached is not None:
        usage["cache_read_input_tokens"] = cached
    if written is not None:
        usage["cache_creation_input_tokens"] = written
    return usage


def stream_plan(reply: Reply, ctx: Ctx) -> StreamPlan:
    _, completion = reply.usage
    events: list[Event] = []

    def add(name: str, kind: str, payload: dict[str, Any]) -> None:
        events.append(Event(named(name, {"type": name, **payload}), kind))

    message = {**full_response(reply, ctx), "content": [], "stop_reason": None}
    message["usage"] = usage_counts(reply, 1)
    add("message_start", HEAD, {"message": message})
    add("ping", HEAD, {})

    index = 0

    def block(start: dict[str, Any], deltas: list[dict[str, Any]], extra: tuple[dict[str, Any], ...] = ()) -> None:
        nonlocal index
        add("content_block_start", STRUCT, {"index": index, "content_block": start})
        for delta in deltas:
            add("content_block_delta", CONTENT, {"index": index, "delta": delta})
        for delta in extra:
            add("content_block_delta", STRUCT, {"index": index, "delta": delta})
        add("content_block_stop", STRUCT, {"index": index})
        index += 1

    if reply.reasoning:
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": p} for p in reply.pieces(reply.reasoning)],
            ({"type": "signature_delta", "signature": _signature(ctx)},),
        )
    if reply.text or not reply.tool_calls:
        block({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in reply.pieces(reply.text)])
    for i, spec in enumerate(reply.tool_calls):
        pieces = [spec.arguments] if reply.tool_call_style == "one_chunk" else reply.pieces(spec.arguments)
        block(
            {"type": "tool_use", "id": reply.call_id(i), "name": spec.name, "input": {}},
            [{"type": "input_json_delta", "partial_json": p} for p in pieces],
        )

    usage = usage_counts(reply, completion)  # cumulative totals
    add("message_delta", FINISH, {"delta": {"stop_reason": stop_reason(reply), "stop_sequence": None}, "usage": usage})
    add("message_stop", FINISH, {})

    def inband_error(pos: int) -> bytes:
        error = {"type": "overloaded_error", "message": reply.error_message or "upstream overloaded"}
        return named("error", {"type": "error", "error": error})

    return StreamPlan(events=events, malformed=MALFORMED, inband_error=inband_error)
