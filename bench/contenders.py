"""The three ways of streaming one answer that the benchmarks compare, on each of the three wires.

* Herald: `AIAgent._interruptible_streaming_api_call` (per-request client, worker thread, raw
  SSE fast path, reader, accumulator, delta sink, callback).
* Bare SDK: the SDK's own stream iterated by hand, text appended to a list, on one long-lived
  client (what a careful user writes without Herald): `chat.completions.create(stream=True)`,
  `responses.create(stream=True)`, `messages.create(stream=True)`.
* Raw floor: the SDK's own HTTP library streaming the same request, `json.loads` per SSE
  `data:` line: the cost below which no client built on that library can go.

All three send the same request body, so the server sends them the same bytes.
"""

from __future__ import annotations

import importlib
import json
import time
from typing import Any, Callable, Iterator

import anthropic
import openai

from bench.machine import http_library
from herald.agent import AIAgent
from herald.llm.anthropic import AnthropicWire
from herald.llm.openai_chat import ChatCompletionsWire
from herald.llm.responses import ResponsesWire

API_KEY = "sk-bench"
MODEL = "m"
MESSAGES = [{"role": "user", "content": "Tell me a long story."}]
WIRES = ("chat_completions", "codex_responses", "anthropic_messages")
WIRE_NAMES = {"chat_completions": "chat", "codex_responses": "Responses", "anthropic_messages": "Anthropic"}
_ANTHROPIC_VERSION = "2023-06-01"


def request_kwargs(mode: str = "chat_completions") -> dict[str, Any]:
    """What Herald's wire sends for a streamed call (with `stream`); the baselines send the same."""
    if mode == "chat_completions":
        return {"model": MODEL, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    if mode == "codex_responses":
        return {**ResponsesWire().build_kwargs(MODEL, MESSAGES), "stream": True}
    return {**AnthropicWire().build_kwargs(MODEL, MESSAGES), "stream": True}


def _herald_kwargs(mode: str) -> dict[str, Any]:
    wire = {"chat_completions": ChatCompletionsWire, "codex_responses": ResponsesWire, "anthropic_messages": AnthropicWire}[mode]()
    return wire.build_kwargs(MODEL, MESSAGES)


def base_url_for(mode: str, base_url: str) -> str:
    """The fake provider answers Anthropic at its root and the OpenAI wires under /v1."""
    return base_url.removesuffix("/v1") if mode == "anthropic_messages" else base_url


def make_agent(base_url: str, on_text: Callable[[str], object], *, api_mode: str = "chat_completions", **options: Any) -> AIAgent:
    return AIAgent(
        model=MODEL,
        base_url=base_url_for(api_mode, base_url),
        api_key=API_KEY,
        api_mode=api_mode,
        skip_context_files=True,
        skip_memory=True,
        quiet_mode=True,
        stream_delta_callback=on_text,
        persist_session=False,
        **options,
    )


class Herald:
    """Herald's streaming call; `deltas` collects what the display callback received."""

    def __init__(self, base_url: str, mode: str = "chat_completions") -> None:
        self.deltas: list[str] = []
        self.first_delta_at: float | None = None
        self.agent = make_agent(base_url, self._on_text, api_mode=mode)
        self._kwargs = _herald_kwargs(mode)

    def _on_text(self, text: str) -> None:
        if self.first_delta_at is None:
            self.first_delta_at = time.perf_counter()
        self.deltas.append(text)

    def stream(self) -> str:
        self.deltas.clear()
        response = self.agent._interruptible_streaming_api_call(dict(self._kwargs))
        return response.message.content or ""

    def close(self) -> None:
        """Close the agent and the connections it keeps."""
        self.agent.close()

    def time_to_first_delta(self) -> float:
        self.first_delta_at = None
        start = time.perf_counter()
        self.stream()
        assert self.first_delta_at is not None
        return self.first_delta_at - start


def _sdk_texts(mode: str, client: Any) -> Iterator[str]:
    """The text deltas of one stream, read the way the SDK's documentation shows."""
    kwargs = request_kwargs(mode)
    if mode == "chat_completions":
        for chunk in client.chat.completions.create(**kwargs):
            if chunk.choices:
                text = chunk.choices[0].delta.content
                if text:
                    yield text
    elif mode == "codex_responses":
        for event in client.responses.create(**kwargs):
            if event.type == "response.output_text.delta":
                yield event.delta
    else:
        for event in client.messages.create(**kwargs):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text


class BareSDK:
    """A hand-written loop over the SDK's stream on one reused client (or a fresh one per call)."""

    def __init__(self, base_url: str, mode: str = "chat_completions", *, fresh_client: bool = False) -> None:
        self._base_url = base_url_for(mode, base_url)
        self._mode = mode
        self._fresh = fresh_client
        self._client = None if fresh_client else self._new_client()

    def _new_client(self) -> Any:
        if self._mode == "anthropic_messages":
            return anthropic.Anthropic(api_key=API_KEY, base_url=self._base_url, max_retries=0)
        return openai.OpenAI(api_key=API_KEY, base_url=self._base_url, max_retries=0)

    def _iterate(self, on_first: Callable[[], None] | None = None) -> str:
        client = self._client or self._new_client()
        try:
            out: list[str] = []
            for text in _sdk_texts(self._mode, client):
                if on_first is not None and not out:
                    on_first()
                out.append(text)
            return "".join(out)
        finally:
            if self._fresh:
                client.close()

    def stream(self) -> str:
        return self._iterate()

    def time_to_first_delta(self) -> float:
        first: list[float] = []
        start = time.perf_counter()
        self._iterate(lambda: first.append(time.perf_counter()))
        return first[0] - start

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _raw_text(mode: str, event: dict[str, Any]) -> str | None:
    if mode == "chat_completions":
        choices = event.get("choices")
        return choices[0]["delta"].get("content") if choices else None
    if mode == "codex_responses":
        return event["delta"] if event.get("type") == "response.output_text.delta" else None
    if event.get("type") == "content_block_delta" and event["delta"].get("type") == "text_delta":
        return event["delta"]["text"]
    return None


class RawHTTP:
    """The SDK's HTTP library, reading SSE lines and decoding each `data:` line's JSON."""

    def __init__(self, base_url: str, mode: str = "chat_completions") -> None:
        http = importlib.import_module(http_library())
        self._mode = mode
        self._client = http.Client(timeout=600)
        path = {"chat_completions": "/chat/completions", "codex_responses": "/responses", "anthropic_messages": "/v1/messages"}[mode]
        self._url = base_url_for(mode, base_url).rstrip("/") + path
        if mode == "anthropic_messages":
            self._headers = {"x-api-key": API_KEY, "anthropic-version": _ANTHROPIC_VERSION}
        else:
            self._headers = {"Authorization": f"Bearer {API_KEY}"}

    def stream(self) -> str:
        out: list[str] = []
        with self._client.stream("POST", self._url, json=request_kwargs(self._mode), headers=self._headers) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                text = _raw_text(self._mode, json.loads(line[6:]))
                if text:
                    out.append(text)
        return "".join(out)

    def close(self) -> None:
        self._client.close()
