"""OpenTelemetry tests: a real OTLP/HTTP receiver on 127.0.0.1 that decodes what arrives.

The `otel` extra is required: without it these tests skip on a developer's machine and FAIL
in CI (`CI` or `HERALD_REQUIRE_OTEL` set), so a missing install step cannot pass as green.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from herald.telemetry import otel_available

if not otel_available():
    if os.environ.get("CI") or os.environ.get("HERALD_REQUIRE_OTEL"):
        raise RuntimeError("the OpenTelemetry tests need the otel extra: pip install -e '.[otel]'")
    pytest.skip("the OpenTelemetry tests need pip install -e '.[otel]'", allow_module_level=True)

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402 - after the extra is known to be there
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from herald import telemetry  # noqa: E402


@dataclass
class Span:
    """One span as it arrived, decoded."""

    name: str
    span_id: bytes
    parent_id: bytes
    trace_id: bytes
    kind: int
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status_code: int
    start_ns: int
    end_ns: int
    resource: dict[str, Any] = field(default_factory=dict)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def _attributes(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


class Receiver:
    """An OTLP/HTTP protobuf trace receiver: `endpoint` for OTEL_EXPORTER_OTLP_ENDPOINT, `spans` decoded, `raw` bytes."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.paths.append(self.path)
                receiver.raw.append(body)
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = _attributes(resource_spans.resource.attributes)
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            receiver.spans.append(Span(
                                span.name, span.span_id, span.parent_span_id, span.trace_id, span.kind,
                                _attributes(span.attributes),
                                [(event.name, _attributes(event.attributes)) for event in span.events],
                                span.status.code, span.start_time_unix_nano, span.end_time_unix_nano, resource,
                            ))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def named(self, prefix: str) -> list[Span]:
        return [span for span in self.spans if span.name.startswith(prefix)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver, and tracing pointed at it (Herald's provider made anew for the test)."""
    telemetry.shutdown()
    server = Receiver()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv(telemetry.CAPTURE_CONTENT_ENV, raising=False)
    yield server
    telemetry.shutdown()
    server.close()
