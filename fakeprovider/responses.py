"""OpenAI Responses wire: response objects and the `response.*` event stream."""

from __future__ import annotations

from typing import Any

from .script import Reply
from .sse import CONTENT, FINISH, HEAD, STRUCT, Ctx, Event, StreamPlan, named

MALFORMED = b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", {not json\n\n'


def _usage(reply: Reply) -> dict[str, Any]:
    prompt, completion = reply.usage
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": reply.cached_tokens or 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens or 0},
        "total_tokens": prompt + completion,
    }


def response_object(
    reply: Reply, ctx: Ctx, status: str, output: list[dict[str, Any]] | None, usage: bool = True, **extra: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": f"resp_{ctx.uid}",
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "model": ctx.model,
        "output": output,
        "usage": _usage(reply) if usage else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": None,
        "top_p": None,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
    }
    obj.update(extra)
    return obj


def _items(reply: Reply, ctx: Ctx) -> list[dict[str, Any]]:
    """The finished output items of a reply: reasoning, message, then function calls."""
    items: list[dict[str, Any]] = []
    if reply.reasoning:
        items.append(
            {"id": f"rs_{ctx.uid}", "type": "reasoning", "summary": [{"type": "summary_text", "text": reply.reasoning}]}
        )
    if reply.text or not reply.tool_calls:
        items.append(
            {
                "id": f"msg_{ctx.uid}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}],
            }
        )
    for i, spec in enumerate(reply.tool_calls):
        items.append(
            {
                "id": f"fc_{ctx.uid}_{i + 1}",
                "type": "function_call",
                "status": "completed",
                "call_id": reply.call_id(i),
                "name": spec.name,
                "arguments": spec.arguments,
            }
        )
    return items


def full_response(reply: Reply, ctx: Ctx) -> dict[str, Any]:
    return response_object(reply, ctx, "completed", _items(reply, ctx))


def stream_plan(reply: Reply, ctx: Ctx) -> StreamPlan:
    events: list[Event] = []

    def add(name: str, kind: str, payload: dict[str, Any], item: dict[str, Any] | None = None) -> None:
        # sequence_number is the event's position, so fault events can continue the count.
        body = {"type": name, "sequence_number": len(events), **payload}
        events.append(Event(named(name, body), kind, item))

    add("response.created", HEAD, {"response": response_object(reply, ctx, "in_progress", [], usage=False)})
    add("response.in_progress", HEAD, {"response": response_object(reply, ctx, "in_progress", [], usage=False)})

    items = _items(reply, ctx)
    for index, item in enumerate(items):
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            add("response.output_item.added", STRUCT, {"output_index": index, "item": {**item, "summary": []}})
            part = {"type": "summary_text", "text": ""}
            add("response.reasoning_summary_part.added", STRUCT, {**where, "summary_index": 0, "part": part})
            for piece in reply.pieces(reply.reasoning):
                add("response.reasoning_summary_text.delta", CONTENT, {**where, "summary_index": 0, "delta": piece})
            add("response.reasoning_summary_text.done", STRUCT, {**where, "summary_index": 0, "text": reply.reasoning})
            done_part = {"type": "summary_text", "text": reply.reasoning}
            add("response.reasoning_summary_part.done", STRUCT, {**where, "summary_index": 0, "part": done_part})
        elif item["type"] == "message":
            added = {**item, "status": "in_progress", "content": []}
            add("response.output_item.added", STRUCT, {"output_index": index, "item": added})
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            add("response.content_part.added", STRUCT, {**where, "content_index": 0, "part": part})
            for piece in reply.pieces(reply.text):
                delta = {**where, "content_index": 0, "delta": piece, "logprobs": []}
                add("response.output_text.delta", CONTENT, delta)
            add("response.output_text.done", STRUCT, {**where, "content_index": 0, "text": reply.text, "logprobs": []})
            add("response.content_part.done", STRUCT, {**where, "content_index": 0, "part": item["content"][0]})
        else:
            added = {**item, "status": "in_progress", "arguments": ""}
            add("response.output_item.added", STRUCT, {"output_index": index, "item": added})
            pieces = [item["arguments"]] if reply.tool_call_style == "one_chunk" else reply.pieces(item["arguments"])
            for piece in pieces:
                add("response.function_call_arguments.delta", CONTENT, {**where, "delta": piece})
            done = {**where, "name": item["name"], "arguments": item["arguments"]}
            add("response.function_call_arguments.done", STRUCT, done)
        add("response.output_item.done", STRUCT, {"output_index": index, "item": item}, item=item)

    final_output = [] if reply.empty_final_output else items
    add("response.completed", FINISH, {"response": response_object(reply, ctx, "completed", final_output)})

    message = reply.error_message

    def inband_error(pos: int) -> bytes:
        text = message or "upstream overloaded"
        payload = {"type": "error", "sequence_number": pos, "code": "server_error", "message": text, "param": None}
        return named("error", payload)

    def failed(pos: int) -> bytes:
        error = {"code": "server_error", "message": message or "The model failed to generate a response."}
        response = response_object(reply, ctx, "failed", plan.done_items(pos), error=error)
        return named("response.failed", {"type": "response.failed", "sequence_number": pos, "response": response})

    def incomplete(pos: int) -> bytes:
        details = {"reason": "max_output_tokens"}
        response = response_object(reply, ctx, "incomplete", plan.done_items(pos), incomplete_details=details)
        payload = {"type": "response.incomplete", "sequence_number": pos, "response": response}
        return named("response.incomplete", payload)

    plan = StreamPlan(
        events=events,
        malformed=MALFORMED,
        inband_error=inband_error,
        terminal={"failed": failed, "incomplete": incomplete},
    )
    return plan
