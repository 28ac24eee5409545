"""The OpenAI Responses wire ("codex_responses"). Minimal: streaming text only, for now."""

from __future__ import annotations

from typing import Any

from herald.errors import IncompleteStream
from herald.llm.accumulate import StreamAccumulator
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse


def run_responses_stream(client: Any, api_kwargs: dict[str, Any], sink: DeltaSink) -> LLMResponse:
    """Stream a Responses call with the SDK's `responses.stream(...)` context manager."""
    acc = StreamAccumulator()
    terminal = None
    with client.responses.stream(**api_kwargs) as stream:
        for event in stream:
            kind = getattr(event, "type", "")
            if kind == "response.output_text.delta":
                sink.emit(acc.handle_text_delta(text=getattr(event, "delta", "") or ""))
            elif kind in ("response.completed", "response.incomplete", "response.failed"):
                terminal = kind
        if terminal != "response.completed":
            raise IncompleteStream(f"the Responses stream ended with {terminal or 'no terminal event'}")
        stream.get_final_response()
    acc.handle_finish(reason="stop")
    return acc.build()
