"""Scripted fake LLM provider for Herald's integration tests and benchmarks.

A real HTTP/1.1 server on 127.0.0.1 speaking three wires, JSON and SSE, to the real SDKs:

- OpenAI chat completions  POST {base_url}/chat/completions
- OpenAI Responses         POST {base_url}/responses
- Anthropic Messages       POST {anthropic_base_url}/v1/messages

    with FakeProvider() as fake:
        fake.enqueue(Reply(text="Hello"), Reply(fault="http_error", status=429, retry_after=1))
        fake.default = Reply(text="fallback")   # answers when the queue is empty

Each request takes the head of the queue (served `Reply.repeat` times), else `default`, else
a 500 "no scripted reply". Stream-only faults leave `stream: false` requests alone, so
`fake.default = Reply(text=..., fault="cut")` cuts every stream yet answers every fallback
(or use `repeat=2` for "one failed stream, then its fallback").

Stream faults (all wires): reject_stream, reject_stream_options, crash_stream_options, cut,
reset, malformed, html, inband_error, no_finish, stall_first_byte, stall, keepalive_stall.
Responses wire only: incomplete, failed. Chat wire only: error_finish (`finish_reason: "error"`
mid-stream). Both streaming and not: http_error, echo_key, trickle (the plain JSON answer sent
one byte every `Reply.delay` seconds (0.1 s when unset): no read ever times out, yet it never ends),
hang (the request is read and nothing is ever sent back, until the client hangs up or
`Reply.stall_seconds` pass: a provider that accepts and never answers).

Continuation (fakeprovider/prefix.py): a request ending with an assistant prefix (chat with
`prefix: true` or `continue_final_message: true`, or an Anthropic prefill) is served the rest of
the scripted text after the prefix, usage counting the new tokens only; `Reply(reject_prefill=True)`
refuses it with a 400 as newer Anthropic models do; `cut_then_continue(text, after=N)` scripts a
stream cut after N chunks and the answer for the request that follows.

`fake.live_connections` counts the connections the server holds open (a client that closed
its socket disappears from it once the server notices).
"""

from .provider import FakeProvider
from .script import FAULTS, STREAM_FAULTS, RecordedRequest, Reply, ToolCallSpec, cut_then_continue

__all__ = ["FAULTS", "STREAM_FAULTS", "FakeProvider", "RecordedRequest", "Reply", "ToolCallSpec", "cut_then_continue"]
