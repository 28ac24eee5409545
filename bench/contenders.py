"""The three ways of streaming one chat completion that the benchmarks compare.

* Herald: `AIAgent._interruptible_streaming_api_call` (per-request client, worker thread,
  accumulator, delta sink, callback).
* Bare SDK: `client.chat.completions.create(stream=True)` iterated by hand, text appended
  to a list, on one long-lived client (what a careful user writes without Herald).
* Raw floor: the SDK's own HTTP library streaming the same request, `json.loads` per SSE
  data line: the cost below which no openai-SDK-based client can go.

All three send the same request body, so the server sends them the same bytes.
"""

from __future__ import annotations

import importlib
import json
import time
from typing import Any, Callable

import openai

from bench.machine import http_library
from herald.agent import AIAgent

API_KEY = "sk-bench"
MODEL = "m"
MESSAGES = [{"role": "user", "content": "Tell me a long story."}]


def request_kwargs() -> dict[str, Any]:
    """What Herald's chat wire sends for a streamed call; the baselines send the same."""
    return {"model": MODEL, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}


def make_agent(base_url: str, on_text: Callable[[str], object], **options: Any) -> AIAgent:
    return AIAgent(
        model=MODEL,
        base_url=base_url,
        api_key=API_KEY,
        skip_context_files=True,
        skip_memory=True,
        quiet_mode=True,
        stream_delta_callback=on_text,
        persist_session=False,
        **options,
    )


class Herald:
    """Herald's streaming call; `deltas` collects what the display callback received."""

    def __init__(self, base_url: str) -> None:
        self.deltas: list[str] = []
        self.first_delta_at: float | None = None
        self.agent = make_agent(base_url, self._on_text)

    def _on_text(self, text: str) -> None:
        if self.first_delta_at is None:
            self.first_delta_at = time.perf_counter()
        self.deltas.append(text)

    def stream(self) -> str:
        self.deltas.clear()
        response = self.agent._interruptible_streaming_api_call({"model": MODEL, "messages": MESSAGES})
        return response.message.content or ""

    def time_to_first_delta(self) -> float:
        self.first_delta_at = None
        start = time.perf_counter()
        self.stream()
        assert self.first_delta_at is not None
        return self.first_delta_at - start


class BareSDK:
    """A hand-written loop over the openai SDK's stream on one reused client."""

    def __init__(self, base_url: str, *, fresh_client: bool = False) -> None:
        self._base_url = base_url
        self._fresh = fresh_client
        self._client = None if fresh_client else self._new_client()

    def _new_client(self) -> openai.OpenAI:
        return openai.OpenAI(api_key=API_KEY, base_url=self._base_url, max_retries=0)

    def _iterate(self, on_first: Callable[[], None] | None = None) -> str:
        client = self._client or self._new_client()
        try:
            out: list[str] = []
            for chunk in client.chat.completions.create(**request_kwargs()):
                if chunk.choices:
                    text = chunk.choices[0].delta.content
                    if text:
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


class RawHTTP:
    """The SDK's HTTP library, reading SSE lines and decoding each `data:` line's JSON."""

    def __init__(self, base_url: str) -> None:
        http = importlib.import_module(http_library())
        self._client = http.Client(timeout=600)
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {API_KEY}"}

    def stream(self) -> str:
        out: list[str] = []
        with self._client.stream("POST", self._url, json=request_kwargs(), headers=self._headers) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[6:])["choices"]
                if choices:
                    text = choices[0]["delta"].get("content")
                    if text:
                        out.append(text)
        return "".join(out)

    def close(self) -> None:
        self._client.close()
