"""OpenTelemetry traces of agent turns, following the GenAI semantic conventions (`herald[otel]`).

With the extra installed, tracing is on when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: Herald exports OTLP/HTTP protobuf through its
own tracer provider, and the SDK reads every other `OTEL_*` variable as usual
(`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, …;
`OTEL_SDK_DISABLED=true` turns it off). An application that installed its own SDK tracer
provider gets Herald's spans in it instead. Without either, nothing is traced and nothing
of OpenTelemetry is imported.

One trace per turn, the same for `AIAgent`, `AsyncAIAgent`, the CLI and batch:

    invoke_agent herald            the turn (INTERNAL)
    ├── chat {model}               one per HTTP request of a model call (CLIENT), from its
    │                              `AttemptRecord`: provider, models, finish reason, tokens,
    │                              error.type, time to first chunk
    └── execute_tool {name}        one per tool call (INTERNAL)

Retries, plain requests, fallbacks and continuations are span events on `invoke_agent`.
Message content (the question, the answer, tool arguments and results) is recorded only when
`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`; keys never are (every string is
scrubbed with the agent's secrets).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from herald.llm.redact import redact

if TYPE_CHECKING:
    from herald.agent.loop import ToolProgress
    from herald.agent.result import TurnResult
    from herald.llm.records import AttemptRecord

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The variable GenAI instrumentations read to record message content (off by default)."""
INSTALL_HINT = "pip install 'herald[otel]'"
_ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROVIDER_NAMES = {"chat_completions": "openai", "codex_responses": "openai", "anthropic_messages": "anthropic"}
_lock = threading.Lock()
_own_provider: Any = None  # the SDK TracerProvider Herald made from the environment, if any


def otel_available() -> bool:
    """True when the `otel` extra is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("opentelemetry.sdk", "opentelemetry.exporter.otlp"))


def _tracer() -> Any:
    """Herald's tracer, or None when tracing is off (see the module docstring)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or not otel_available():
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from herald.version import __version__

    global _own_provider
    configured = trace.get_tracer_provider()
    if isinstance(configured, TracerProvider):  # the application set one up: use it
        return configured.get_tracer("herald", __version__)
    with _lock:
        if _own_provider is None:
            if not any(os.environ.get(name, "").strip() for name in _ENDPOINT_ENVS):
                return None
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            resource = Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "herald"})
            provider = TracerProvider(resource=resource)
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _own_provider = provider
        return _own_provider.get_tracer("herald", __version__)


def shutdown() -> None:
    """Export what is pending and stop Herald's own exporter (its thread included). The next
    turn reads the environment again. The CLI calls it before exiting."""
    global _own_provider
    with _lock:
        provider, _own_provider = _own_provider, None
    if provider is not None:
        provider.shutdown()


@contextmanager
def traced_turn(
    *,
    model: str,
    api_mode: str,
    session_id: str | None,
    user_message: str,
    secrets: Callable[[], Sequence[str | None]],
) -> Iterator[TurnTrace | NoTrace]:
    """The trace of the turn run inside the block (`NoTrace` when tracing is off). Whatever the
    block leaves open (an exception, a cancellation) is ended on the way out."""
    tracer = _tracer()
    if tracer is None:
        yield NoTrace()
        return
    trace = TurnTrace(tracer, model=model, api_mode=api_mode, session_id=session_id, user_message=user_message, secrets=secrets)
    try:
        yield trace
    finally:
        trace.end()


class NoTrace:
    """The trace of a turn when tracing is off: every call does nothing."""

    def reporting(self, report: Callable[[ToolProgress], None]) -> Callable[[ToolProgress], None]:
        return report

    def finish(self, result: TurnResult) -> None:
        pass


def _capture_content() -> bool:
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in ("true", "1", "yes")


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class TurnTrace:
    """One turn's spans. `tool` is fed tool progress as it happens; `finish` ends the turn,
    making a `chat` span per attempt from the result's records (their own start and duration)."""

    def __init__(
        self,
        tracer: Any,
        *,
        model: str,
        api_mode: str,
        session_id: str | None,
        user_message: str,
        secrets: Callable[[], Sequence[str | None]],
    ) -> None:
        from opentelemetry import trace

        self._trace = trace
        self._tracer = tracer
        self._secrets = secrets
        self._capture = _capture_content()
        self._provider_name = _PROVIDER_NAMES.get(api_mode, api_mode)
        self._model = model
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "herald",
            "gen_ai.provider.name": self._provider_name,
            "gen_ai.request.model": model,
        }
        if session_id:
            attributes["gen_ai.conversation.id"] = session_id
        if self._capture:
            attributes["gen_ai.input.messages"] = self._json([{"role": "user", "parts": [{"type": "text", "content": user_message}]}])
        self.span = tracer.start_span("invoke_agent herald", kind=trace.SpanKind.INTERNAL, attributes=attributes)
        self._context = trace.set_span_in_context(self.span)
        self._tools: dict[str, Any] = {}
        self._tools_lock = threading.Lock()

    def _text(self, value: str) -> str:
        return redact(value, tuple(self._secrets()))

    def _json(self, value: Any) -> str:
        return self._text(json.dumps(value, ensure_ascii=False))

    def reporting(self, report: Callable[[ToolProgress], None]) -> Callable[[ToolProgress], None]:
        """`report`, and the tool's span started or ended."""

        def both(progress: ToolProgress) -> None:
            report(progress)
            self.tool(progress)

        return both

    def tool(self, progress: ToolProgress) -> None:
        """A tool started or ended (from any thread)."""
        if progress.kind == "start":
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": progress.name,
                "gen_ai.tool.call.id": progress.call_id,
                "gen_ai.tool.type": "function",
            }
            if self._capture:
                attributes["gen_ai.tool.call.arguments"] = self._text(progress.arguments)
            span = self._tracer.start_span(
                f"execute_tool {progress.name}", context=self._context, kind=self._trace.SpanKind.INTERNAL, attributes=attributes
            )
            with self._tools_lock:
                self._tools[progress.call_id] = span
            return
        with self._tools_lock:
            span = self._tools.pop(progress.call_id, None)
        if span is None:
            return
        if self._capture:
            span.set_attribute("gen_ai.tool.call.result", self._text(progress.output))
        if not progress.ok:
            span.set_attribute("error.type", "ToolError")
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, self._text(progress.summary)[:200]))
        span.end()

    def finish(self, result: TurnResult) -> None:
        """End the turn: a `chat` span per attempt, the turn's outcome on `invoke_agent`."""
        for record in result.attempts:
            self._attempt(record)
        span = self.span
        span.set_attribute("herald.turn.status", result.status)
        span.set_attribute("herald.turn.api_calls", result.api_calls)
        if result.limit is not None:
            span.set_attribute("herald.turn.limit", result.limit)
        if result.finish_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [result.finish_reason])
        if result.usage is not None:
            span.set_attribute("gen_ai.usage.input_tokens", result.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", result.usage.completion_tokens)
        if self._capture and result.final_response:
            span.set_attribute(
                "gen_ai.output.messages",
                self._json([{"role": "assistant", "parts": [{"type": "text", "content": result.final_response}]}]),
            )
        if result.status == "failed":
            span.set_attribute("error.type", type(result.error).__name__ if result.error is not None else "Error")
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, self._text(result.error_message or "")[:200]))
        self.end()

    def end(self) -> None:
        """End whatever is still open (a turn cut short by an exception); idempotent."""
        with self._tools_lock:
            open_tools, self._tools = list(self._tools.values()), {}
        for span in open_tools:
            span.end()
        if self.span.is_recording():
            self.span.end()

    def _attempt(self, record: AttemptRecord) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self._provider_name,
            "gen_ai.request.model": record.model,
            "server.address": record.host.rsplit(":", 1)[0] if ":" in record.host else record.host,
            "herald.attempt.number": record.number,
            "herald.attempt.key": record.key,
            "herald.attempt.mode": record.mode,
            "herald.attempt.outcome": record.outcome,
        }
        port = record.host.rsplit(":", 1)[1] if ":" in record.host else ""
        if port.isdigit():
            attributes["server.port"] = int(port)
        if record.response_model:
            attributes["gen_ai.response.model"] = record.response_model
        if record.finish_reason:
            attributes["gen_ai.response.finish_reasons"] = [record.finish_reason]
        if record.usage is not None:
            attributes["gen_ai.usage.input_tokens"] = record.usage.prompt_tokens
            attributes["gen_ai.usage.output_tokens"] = record.usage.completion_tokens
        if record.first_chunk_s is not None:
            attributes["gen_ai.response.time_to_first_chunk"] = record.first_chunk_s
        if record.next is not None:
            attributes["herald.attempt.next"] = record.next
        if record.status is not None:
            attributes["http.response.status_code"] = record.status
        if not record.ok:
            attributes["error.type"] = record.error_type or record.outcome
        span = self._tracer.start_span(
            f"chat {record.model}", context=self._context, kind=self._trace.SpanKind.CLIENT,
            attributes=attributes, start_time=_ns(record.started_at),
        )
        if not record.ok:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, self._text(record.error or record.outcome)[:200]))
        span.end(end_time=_ns(record.started_at + record.duration_s))
        if record.next in ("retry", "plain", "fallback", "continue"):
            self.span.add_event(
                f"herald.{record.next}",
                {"herald.attempt.number": record.number, "error.type": record.error_type or record.outcome,
                 "herald.attempt.provider": record.provider, "herald.attempt.delay_s": record.delay_s or 0.0},
                timestamp=_ns(record.started_at + record.duration_s),
            )


__all__ = ["CAPTURE_CONTENT_ENV", "INSTALL_HINT", "NoTrace", "TurnTrace", "otel_available", "shutdown", "traced_turn"]
