"""The HTTP layer: a threading HTTP/1.1 server whose handler routes to the three wires."""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from . import anthropic, chat, responses
from .prefix import REFUSALS, continued, prefix_of
from .errors import context_length_message, default_message, error_body, mask_key, prompt_tokens
from .script import STREAM_FAULTS, RecordedRequest, Reply
from .sse import Ctx
from .streaming import play

if TYPE_CHECKING:
    from .provider import FakeProvider

WIRES = {"chat": chat, "responses": responses, "anthropic": anthropic}

HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def route(path: str) -> str | None:
    # Match on the suffix so base URLs with or without /v1 both work.
    path = path.split("?", 1)[0].rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/messages"):
        return "anthropic"
    return None


class FakeHTTPServer(ThreadingHTTPServer):
    """Tracks live connections so close() can unblock and join their handler threads."""

    daemon_threads = True
    block_on_close = False  # we join ourselves, with a bound

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider
        self._live: dict[threading.Thread, socket.socket] = {}
        self._live_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address), daemon=True)
        with self._live_lock:
            self._live[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._live_lock:
                self._live.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up are routine here; anything else is a fake-provider bug worth showing.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    @property
    def live_connections(self) -> int:
        with self._live_lock:
            return len(self._live)

    def connection_open(self, connection: int) -> bool:
        """Whether the connection a request came over (`RecordedRequest.connection`) is still open."""
        with self._live_lock:
            socks = list(self._live.values())
        for sock in socks:
            try:
                if sock.getpeername()[1] == connection:
                    return True
            except OSError:  # already shut down
                continue
        return False

    def drop_connections(self, join_timeout: float = 2.0) -> None:
        """Shut down every live connection (waking idle keep-alive reads) and join handlers."""
        with self._live_lock:
            live = list(self._live.items())
        for _, sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + join_timeout
        for thread, _ in live:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Hangup:
    """Waits like the provider's stop event, and also ends when the client hung up: a stalled or
    paced reply must not hold its connection open after the client abandoned it."""

    _POLL = 0.05

    def __init__(self, stop: threading.Event, sock: socket.socket) -> None:
        self._stop = stop
        self._sock = sock

    def wait(self, seconds: float) -> bool:
        """True when the server is closing or the client is gone before `seconds` passed."""
        deadline = time.monotonic() + seconds
        while not self._client_gone():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._stop.wait(min(self._POLL, remaining)):
                return True
        return True

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            return bool(readable) and self._sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


class _Sink:
    """Buffers stream bytes and writes them framed (chunked) or raw (close-delimited)."""

    def __init__(self, wfile: Any, chunked: bool) -> None:
        self._wfile = wfile
        self._chunked = chunked
        self._buf = bytearray()

    def write(self, data: bytes) -> None:
        self._buf += data

    def flush(self) -> None:
        if not self._buf:
            return
        if self._chunked:
            self._wfile.write(b"%x\r\n" % len(self._buf) + bytes(self._buf) + b"\r\n")
        else:
            self._wfile.write(bytes(self._buf))
        self._buf.clear()

    def finish(self) -> None:
        self.flush()
        if self._chunked:
            self._wfile.write(b"0\r\n\r\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean

    def version_string(self) -> str:
        return self.provider.server_header or super().version_string()

    @property
    def provider(self) -> FakeProvider:
        return self.server.provider

    # -- entry points -------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None, False)
        if self.path.split("?", 1)[0].rstrip("/").endswith("/models"):
            models = sorted(self.provider.known_models or [])
            data = [{"id": m, "object": "model", "created": 0, "owned_by": self.provider.owned_by} for m in models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, error_body("chat", 404, f"Unknown path {self.path}"))

    drop_next = False  # per connection: see Reply.drop_next_on_connection

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.drop_next:
            self.close_connection = True  # no answer, no record: the client sees the connection close
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        stream = isinstance(body, dict) and body.get("stream") is True
        self._record(body, stream)
        try:
            self._answer(route(self.path), body if isinstance(body, dict) else {}, stream)
        except OSError:  # client hung up, or close() shut the socket down
            self.close_connection = True

    # -- request handling ---------------------------------------------------------------

    def _record(self, body: Any, stream: bool) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.provider._record(
            RecordedRequest(self.path, headers, body, stream, time.monotonic(), self.command, int(self.client_address[1]))
        )

    def _presented_key(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return self.headers.get("x-api-key")

    def _error(
        self, wire: str, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._send_json(status, error_body(wire, status, message, code=code), headers)

    def _answer(self, wire: str | None, body: dict[str, Any], stream: bool) -> None:
        provider = self.provider
        if wire is None:
            self._error("chat", 404, f"Unknown path {self.path}")
            return
        key = self._presented_key()
        if provider.api_key is not None and key != provider.api_key:
            if key:
                message = f"Incorrect API key provided: {mask_key(key)}."
            else:
                message = "You didn't provide an API key."
            self._error(wire, 401, message, code="invalid_api_key")
            return
        model = body.get("model")
        if provider.known_models is not None and model not in provider.known_models:
            self._error(wire, 404, f"The model `{model}` does not exist", code="model_not_found")
            return
        if provider.context_window is not None and prompt_tokens(body) > provider.context_window:
            used = prompt_tokens(body)
            self._error(wire, 400, context_length_message(wire, used, provider.context_window), code="context_length_exceeded")
            return
        if provider.reject_null_content and _has_null_assistant_content(body):
            self._error(wire, 500, "Assistant message must have string content (got null).")
            return
        reply = provider._take_reply(json.dumps(body))
        if reply is None:
            self._error(wire, 500, "no scripted reply")
            return
        self._answer_reply(wire, body, stream, reply, key)

    def _answer_reply(self, wire: str, body: dict[str, Any], stream: bool, reply: Reply, key: str | None) -> None:
        self.drop_next = reply.drop_next_on_connection
        fault = reply.fault
        if fault == "echo_key":
            self._error(wire, 401, f"Incorrect API key provided: {key}.", code="invalid_api_key")
            return
        if fault == "hang":  # the connection is accepted and the request read; nothing is ever sent
            self._hangup().wait(reply.stall_seconds)
            self.close_connection = True
            return
        if fault == "http_error":
            headers = {"Retry-After": _format_seconds(reply.retry_after)} if reply.retry_after is not None else None
            self._error(wire, reply.status, reply.error_message or default_message(reply.status), headers=headers)
            return
        prefix = prefix_of(wire, body)
        if prefix is not None:
            if reply.reject_prefill:
                self._error(wire, 400, reply.error_message or REFUSALS[wire], code="invalid_request_error")
                return
            reply = continued(reply, prefix)
        encoder = WIRES[wire]
        ctx = Ctx(
            model=reply.model or str(body.get("model") or "fake-model"),
            uid=f"fake{self.provider._next_id()}",
            created=int(time.time()),
            body=body,
        )
        if fault == "trickle":
            self._trickle(json.dumps(encoder.full_response(reply, ctx)).encode(), reply.delay or 0.1)
            return
        if not stream:
            if reply.reject_non_stream:
                self._error(wire, 400, "Stream must be set to true")
                return
            if reply.pace_plain and self._hangup().wait(reply.delay * len(reply.pieces(reply.text))):
                self.close_connection = True
                return
            self._send_json(200, encoder.full_response(reply, ctx))
            return

        if fault == "reject_stream":
            self._error(wire, 400, "Streaming is not supported for this model", code="unsupported_value")
            return
        if fault in ("reject_stream_options", "crash_stream_options") and "stream_options" in body:
            if fault == "reject_stream_options":
                self._error(wire, 400, "Unrecognized request argument supplied: stream_options")
            else:
                self._error(wire, 500, "Internal error while handling stream_options")
            return
        if fault == "html":
            self._send_bytes(200, HTML_PAGE, "text/html; charset=utf-8")
            return
        if fault == "stall_first_byte" and self._hangup().wait(reply.stall_seconds):
            self.close_connection = True
            return

        # "cut" uses a close-delimited body so the client cannot tell the stream was truncated.
        chunked = fault != "cut"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", f"req_{ctx.uid}")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        sink = _Sink(self.wfile, chunked)
        plan = encoder.stream_plan(reply, ctx)
        if play(sink, plan, reply, fault if fault in STREAM_FAULTS else None, self._hangup()):
            self.close_connection = True
            if fault == "reset":
                # Linger 0 makes close() send RST: the peer sees the connection torn mid-body.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        sink.finish()

    # -- writing ------------------------------------------------------------------------

    def _hangup(self) -> _Hangup:
        return _Hangup(self.provider._stop, self.connection)

    def _trickle(self, data: bytes, interval: float) -> None:
        """A valid JSON answer, one byte per `interval`: each read succeeds, the whole never ends."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            if self._hangup().wait(interval):
                break
        self.close_connection = True

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def _send_bytes(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_fake{self.provider._next_id()}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _has_null_assistant_content(body: dict[str, Any]) -> bool:
    for key in ("messages", "input"):
        items = body.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and item.get("role") == "assistant" and "content" in item:
                    if item["content"] is None:
                        return True
    return False


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
