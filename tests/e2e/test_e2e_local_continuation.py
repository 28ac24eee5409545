"""A stream the test cuts mid-answer continues on the real local model, with one coherent answer.

Between the agent and the local server sits a small loopback proxy that forwards every request
and, on the first streamed answer, closes the client's connection after a few tokens of content
(mid-body: no terminating chunk, as a dropped connection looks). The agent, with the default
`continuation="auto"`, learns from the stream's own `Server` header (passed on by the proxy) that
the server is Herald's local model, asks it for the rest of the answer, and shows it in place.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from herald import AIAgent, AsyncAIAgent
from herald.local import LocalProvider

pytestmark = pytest.mark.e2e  # skipped or failed without the extra: see conftest

CUT_AFTER = 3
"""Content tokens the first stream delivers before the proxy closes the connection."""
QUESTION = "Describe the city of Paris in detail."


class CuttingProxy(ThreadingHTTPServer):
    """Forwards to `upstream`; the first streamed answer is cut after `CUT_AFTER` content events."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = urlsplit(upstream)
        self.bodies: list[dict[str, Any]] = []
        self.cut_text: str | None = None
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{self.upstream.path}"

    def should_cut(self) -> bool:
        with self.lock:
            return self.cut_text is None


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CuttingProxy
    server_said = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def version_string(self) -> str:
        return self.server_said or super().version_string()

    def do_GET(self) -> None:
        self._forward(None)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw)
        self.server.bodies.append(body)
        self._forward(raw, stream=body.get("stream") is True)

    def _forward(self, raw: bytes | None, *, stream: bool = False) -> None:
        upstream = self.server.upstream
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        headers = {"Content-Type": "application/json"} if raw is not None else {}
        connection.request(self.command, self.path, body=raw, headers=headers)
        response = connection.getresponse()
        # Both Server headers (uvicorn's and Herald's), as the server sent them.
        self.server_said = ", ".join(v for k, v in response.getheaders() if k.lower() == "server")
        self.send_response(response.status)
        self.send_header("Content-Type", response.getheader("Content-Type") or "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cut = stream and self.server.should_cut()
        shown: list[str] = []
        for line in _lines(response):
            self._chunk(line)
            if cut and (text := _content(line)):
                shown.append(text)
                if len(shown) == CUT_AFTER:
                    self.server.cut_text = "".join(shown)
                    self.wfile.flush()
                    self.close_connection = True
                    connection.close()
                    return  # no terminating chunk: the client sees the body end mid-way
        self._chunk(b"")
        connection.close()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def _lines(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while line := response.readline():
        yield line


def _content(line: bytes) -> str:
    if not line.startswith(b"data: {"):
        return ""
    choices = json.loads(line[6:]).get("choices") or [{}]
    return str((choices[0].get("delta") or {}).get("content") or "")


@pytest.fixture
def proxy(local_provider: LocalProvider) -> Iterator[CuttingProxy]:
    server = CuttingProxy(local_provider.base_url)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Seen:
    deltas: list[str] = field(default_factory=list)
    resets: int = 0
    continued: int = 0


@pytest.mark.parametrize("kind", ["AIAgent", "AsyncAIAgent"])
def test_a_cut_answer_continues_on_the_local_model(local_provider: LocalProvider, proxy: CuttingProxy, kind: str, tmp_path: Path) -> None:
    seen = Seen()

    def reset() -> None:
        seen.resets += 1

    def continued() -> None:
        seen.continued += 1

    settings: dict[str, Any] = dict(
        model=local_provider.model, base_url=proxy.base_url, quiet_mode=True, skip_context_files=True, skip_memory=True,
        persist_session=False, enabled_toolsets=[], max_retries=0, max_tokens=60, cwd=tmp_path, temperature=0,
        stream_delta_callback=seen.deltas.append, stream_reset_callback=reset, stream_continued_callback=continued,
    )  # continuation: "auto", the default; greedy, so the answer is long enough to cut every time
    if kind == "AIAgent":
        with AIAgent(**settings) as agent:
            result = agent.run_conversation(QUESTION)
    else:
        result = asyncio.run(AsyncAIAgent(**settings).run_conversation(QUESTION))

    assert proxy.cut_text, f"the proxy cut the first answer: {result['final_response']!r}, {result['attempts']}"
    assert result["completed"], result["error"]
    final = result["final_response"]
    shown = "".join(seen.deltas)
    assert shown == final, "what was shown is the answer: nothing repeated, nothing lost"
    assert (seen.resets, seen.continued, result["continuations"]) == (0, 1, 1)
    first, second = proxy.bodies
    assert first["stream"] and second["stream"]
    prefix = second["messages"][-1]
    # What the agent had shown when the connection dropped (in-flight bytes of the cut may be lost).
    assert prefix["role"] == "assistant" and prefix["prefix"] is True and proxy.cut_text.startswith(prefix["content"])
    assert second["continue_final_message"] is True and second["messages"][:-1] == first["messages"]
    assert final.startswith(prefix["content"]) and len(final.strip()) > len(prefix["content"].strip())
    rest = final[len(prefix["content"]) :]
    assert not rest.lstrip().startswith(prefix["content"].strip()), "the shown text is not written twice"
    # One coherent answer: one line of words, ending as a sentence does (the model stops there).
    assert "\n" not in final.strip() and "  " not in final and final.strip()[-1] in ".!?", final
    assert [a["mode"] for a in result["attempts"]] == ["stream", "continue"]


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "plain"])
@pytest.mark.parametrize("kind", ["AIAgent", "AsyncAIAgent"])
def test_an_answer_cut_by_max_tokens_is_continued_from_its_text(local_provider: LocalProvider, kind: str, streaming: bool, tmp_path: Path) -> None:
    # Plain requests learn the server from their headers as streams do.
    deltas: list[str] = []
    settings: dict[str, Any] = dict(
        model=local_provider.model, base_url=local_provider.base_url, quiet_mode=True, skip_context_files=True,
        skip_memory=True, persist_session=False, enabled_toolsets=[], max_retries=0, cwd=tmp_path, max_tokens=2,
        max_continuations=8, temperature=0, stream_delta_callback=deltas.append if streaming else None,
    )  # continuation: "auto"; the server says it is Herald's local one
    if kind == "AIAgent":
        with AIAgent(**settings) as agent:
            result = agent.run_conversation(QUESTION)
    else:
        result = asyncio.run(AsyncAIAgent(**settings).run_conversation(QUESTION))
    assert result["completed"], result["error"]
    modes = [a["mode"] for a in result["attempts"]]
    assert modes[0] == ("stream" if streaming else "plain") and modes[1:] and set(modes[1:]) == {"continue"}, modes
    assert result["continuations"] == len(modes) - 1 and result["api_calls"] == 1
    final = result["final_response"]
    assert "".join(deltas) == (final if streaming else "") and [m["role"] for m in result["messages"]] == ["user", "assistant"]
    assert "\n" not in final.strip() and "  " not in final, final
    assert result["usage"]["output_tokens"] > 2, "usage sums every answer"
