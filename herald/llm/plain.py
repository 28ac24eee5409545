"""A plain (non-streaming) request on any wire, as sans-IO steps.

Each wire says what its plain request is (`request_steps`): chat completions and Anthropic
send one `create` and read its answer; Responses first reads a buffered stream and sends a
`stream: false` request only when that is refused (see `herald.llm.responses`). The steps:

- `SendPlain(kwargs)`: the SDK's plain `create`, answered with whatever it returned (the
  wire reads it);
- `ReadBuffered(kwargs)`: a stream read to its end without delivering anything, answered
  with the `LLMResponse`.

`request` performs them on a sync client; `herald.llm.async_requests` on an async one.
"""

from __future__ import annotations

from typing import Any

from herald.llm.steps import run_steps
from herald.llm.types import LLMResponse
from herald.llm.wire import PlainStep, SendPlain, Wire


def request(wire: Wire, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """The wire's plain request on a sync client (`kwargs` are `plain_kwargs`)."""

    def perform(step: PlainStep) -> Any:
        if isinstance(step, SendPlain):
            return wire.send_plain(client, step.kwargs)
        from herald.llm.responses import buffered_request

        return buffered_request(client, step.kwargs)

    return run_steps(wire.request_steps(kwargs), perform)


__all__ = ["request"]
