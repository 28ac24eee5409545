"""A plain (non-streaming) request on any wire, as sans-IO steps.

Each wire says what its plain request is (`request_steps`): chat completions and Anthropic
send one `create` and read its answer; Responses first reads a buffered stream and sends a
`stream: false` request only when that is refused (see the Responses wire). The steps:

- `SendPlain(kwargs)`: the SDK's plain `create`, answered with whatever it returned (the
  wire reads it);
- `ReadBuffered(kwargs)`: a stream read to its end without delivering anything, answered
  with the `LLMResponse`.

`request` performs them on a sync client; `herald.llm.async_requests` on an async one.
"""

from __future__ import annotations

from typing import Any, Callable

from herald.llm.steps import run_steps
from herald.llm.types import LLMResponse
from herald.llm.stream_loop import is_sdk_client
from herald.llm.wire import OnHeaders, PlainStep, SendPlain, Wire


def request(
    wire: Wire,
    client: Any,
    kwargs: dict[str, Any],
    *,
    read_buffered: Callable[[Any, dict[str, Any]], LLMResponse] | None = None,
    on_headers: OnHeaders | None = None,
) -> LLMResponse:
    """The wire's plain request on a sync client (`kwargs` are `plain_kwargs`); `read_buffered`
    performs a `ReadBuffered` step (the Responses wire's, the only one that asks for it);
    `on_headers` receives a real SDK client's response headers."""

    def perform(step: PlainStep) -> Any:
        if isinstance(step, SendPlain):
            if on_headers is not None and is_sdk_client(client):
                raw = wire.send_plain(client, step.kwargs, raw=True)
                on_headers(raw.headers)
                return raw.parse()
            return wire.send_plain(client, step.kwargs)
        if read_buffered is None:
            raise TypeError(f"{type(wire).__name__} asked for a buffered read and gave no reader")
        return read_buffered(client, step.kwargs)

    return run_steps(wire.request_steps(kwargs), perform)


__all__ = ["request"]
