"""The awaited path's lean stream request sends what the SDK's `create()` sends, on every wire.

`async_stream_loop.open_stream` POSTs through the SDK's `client.post(...)`, skipping `create()`'s
parameter transform (docs/performance-async.md). These tests send one rich request (system prompt,
tool call, tool result, tools, a token limit) both ways and compare what the provider received:
the day an SDK starts transforming something in such a request, they fail.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakeprovider import FakeProvider, Reply
from fakeprovider.script import RecordedRequest
from herald.errors import AuthenticationError, RateLimitError
from herald.llm.async_clients import make_async_anthropic_client, make_async_openai_client
from herald.llm.async_stream_loop import open_stream
from herald.llm.endpoint import resolve_endpoint
from herald.llm.sdk_errors import translate_errors
from herald.llm.wires import wire_for

WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]
HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse. Ünïcode too: ✓"},
    {"role": "user", "content": "read a"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a"}'}}],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "the contents of a"},
    {"role": "user", "content": "and now?"},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]
COMPARED_HEADERS = ("authorization", "x-api-key", "anthropic-version", "content-type", "accept", "user-agent")


def _client(fake: FakeProvider, mode: str) -> Any:
    base_url = fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url
    endpoint = resolve_endpoint(model="m", base_url=base_url, api_key="sk-lean-test", api_mode=mode)
    make = make_async_anthropic_client if mode == "anthropic_messages" else make_async_openai_client
    return make(endpoint, timeout=30, max_connections=None)


def _stream_kwargs(mode: str) -> dict[str, Any]:
    wire = wire_for(mode)
    return wire.stream_kwargs(wire.build_kwargs("m", HISTORY, TOOLS, max_tokens=256), stream_options=wire.supports_stream_options)


def _seen(request: RecordedRequest) -> tuple[str, Any, dict[str, str]]:
    return request.path, request.body, {name: request.headers.get(name, "") for name in COMPARED_HEADERS}


@pytest.mark.parametrize("mode", WIRES)
def test_the_lean_request_sends_what_create_sends(fake: FakeProvider, mode: str) -> None:
    fake.default = Reply(text="ok")
    wire, kwargs = wire_for(mode), _stream_kwargs(mode)

    async def main() -> None:
        async with _client(fake, mode) as client:
            async with wire.open_raw(client, kwargs) as response:  # the SDK's create()
                await response.read()
            async with open_stream(client, wire.stream_path, kwargs) as lean:
                await lean.aread()

    asyncio.run(main())
    by_create, by_post = fake.requests[-2:]
    assert by_create.stream and by_post.stream
    assert _seen(by_post) == _seen(by_create)


@pytest.mark.parametrize("mode", WIRES)
@pytest.mark.parametrize(("status", "error"), [(401, AuthenticationError), (429, RateLimitError)])
def test_a_refused_lean_request_is_the_same_herald_error(fake: FakeProvider, mode: str, status: int, error: type[Exception]) -> None:
    fake.default = Reply(fault="http_error", status=status, retry_after=2.0 if status == 429 else None)
    wire, kwargs = wire_for(mode), _stream_kwargs(mode)

    async def main() -> None:
        async with _client(fake, mode) as client:
            with translate_errors(where="loopback", secrets=("sk-lean-test",)):
                async with open_stream(client, wire.stream_path, kwargs):
                    raise AssertionError("a refused request opened")

    with pytest.raises(error) as caught:
        asyncio.run(main())
    assert caught.value.status == status and "loopback answered HTTP" in str(caught.value)  # type: ignore[attr-defined]
    assert "sk-lean-test" not in str(caught.value)
    if status == 429:
        assert caught.value.retry_after == pytest.approx(2.0)  # type: ignore[attr-defined]
