"""Scripted fake LLM provider for Herald's integration tests and benchmarks.

A real HTTP server on 127.0.0.1 speaking the OpenAI chat completions, OpenAI Responses and
Anthropic Messages wires (JSON and SSE), able to fail the ways real providers do.
"""

from .provider import FakeProvider
from .script import FAULTS, STREAM_FAULTS, RecordedRequest, Reply, ToolCallSpec

__all__ = ["FAULTS", "STREAM_FAULTS", "FakeProvider", "RecordedRequest", "Reply", "ToolCallSpec"]
