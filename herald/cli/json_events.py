"""`herald --json`: the turn as JSON Lines on stdout, one event per line, for scripts and editors.

Every event is one JSON object with `type` and the schema version `"v": 1`, written whole and
flushed as it happens. Nothing else goes to stdout (notices and the human error line go to
stderr). The schema is documented in the README ("JSON events"); a change that is not an
addition bumps `SCHEMA_VERSION`.

    turn.started     {model}
    reasoning.delta  {text}
    text.delta       {text}
    stream.reset     {}        the text and reasoning since the model call began are void
    stream.continued {}        the stream broke and the answer is continued: the text stands,
                               the next text.delta follows it (instead of stream.reset)
    tool.started     {name, arguments}
    tool.finished    {name, ok, duration_s, output, truncated}
    attempt.failed   {provider, key, error, error_type, next, delay_s, number, mode, status, duration_s}
    error            {message, error_type}
    turn.completed   {status, final_response, usage, session_id, fallback_reason, answered_by,
                      limit, finish_reason}

`attempt.failed` comes as each failed HTTP request of a model call ends: `next` says what
followed ("retry" after `delay_s`, "plain", "fallback", "continue" or "give_up"), so a consumer
tells a recovered fault from a fatal one. `turn.completed`'s `status` is "completed", "failed",
"interrupted" or "limited" (then `limit` is "time", "turns" or "tokens" and `final_response`
holds the best answer so far); `finish_reason` "length" marks an answer cut by max_tokens.

A consumer that keeps the `text.delta` texts, drops them on `stream.reset` and on
`tool.started` (text before a tool call is the model's commentary on that step), ends with
exactly `final_response`. Errors, tool output and every other string are scrubbed of the API
key; answer text is passed through untouched, so that equality holds.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO

from herald.cli.summary import TurnSummary
from herald.llm.records import AttemptRecord
from herald.llm.redact import redact_data

SCHEMA_VERSION = 1
OUTPUT_CAP = 4000
"""Characters of a tool's output carried in `tool.finished` (the model got all of it)."""


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """One event object: `type`, `v`, then its fields."""
    return {"type": kind, "v": SCHEMA_VERSION, **fields}


def error_event(message: str, error_type: str | None) -> dict[str, Any]:
    return event("error", message=message, error_type=error_type)


class JsonLines:
    """Writes events to `out`, one line each, flushed, safe across threads."""

    def __init__(self, out: TextIO | None = None, secrets: tuple[str | None, ...] = ()) -> None:
        self.out = out if out is not None else sys.stdout
        self.secrets = secrets
        self._lock = threading.Lock()

    def write(self, obj: dict[str, Any], *, scrub: bool = True) -> None:
        """Write one event as one line; `scrub` masks the key (and key-shaped text) in its strings."""
        if scrub:
            obj = redact_data(obj, self.secrets)
        line = json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n"
        with self._lock:
            self.out.write(line)
            self.out.flush()


class JsonEventDisplay:
    """A `StreamDisplay` that reports the turn as JSON events instead of drawing it."""

    show_reasoning = True  # every event is emitted; the consumer decides what to show

    def __init__(self, out: TextIO | None = None, *, model: str = "", secrets: tuple[str | None, ...] = ()) -> None:
        self.lines = JsonLines(out, secrets)
        self.model = model

    def begin_turn(self) -> None:
        self.lines.write(event("turn.started", model=self.model))

    def on_first_delta(self) -> None:
        pass

    def on_reasoning(self, delta: str) -> None:
        if delta:
            self.lines.write(event("reasoning.delta", text=delta), scrub=False)

    def on_text(self, delta: str) -> None:
        if delta:
            self.lines.write(event("text.delta", text=delta), scrub=False)

    def on_stream_reset(self) -> None:
        self.lines.write(event("stream.reset"))

    def on_stream_continued(self) -> None:
        self.lines.write(event("stream.continued"))

    def on_tool_start(self, name: str, preview: str, *, arguments: str = "") -> None:
        self.lines.write(event("tool.started", name=name, arguments=_arguments(arguments)))

    def on_tool_end(self, name: str, duration_s: float, ok: bool, summary: str = "", *, output: str = "") -> None:
        truncated = len(output) > OUTPUT_CAP
        self.lines.write(
            event(
                "tool.finished", name=name, ok=ok, duration_s=round(duration_s, 3),
                output=output[:OUTPUT_CAP], truncated=truncated,
            )
        )

    def end_turn(self, *, interrupted: bool = False) -> None:
        pass  # turn.completed carries the outcome

    def on_attempt(self, record: AttemptRecord) -> None:
        """An HTTP request of a model call ended: a failed one is an `attempt.failed` event (from any thread)."""
        if not record.ok:
            self.lines.write(attempt_failed_event(record))

    def error(self, message: str) -> None:
        pass  # reported with its type by on_turn_complete, just before turn.completed

    def notice(self, message: str) -> None:
        pass  # a human's note (e.g. which provider answered): turn.completed carries the facts

    def on_turn_complete(self, summary: TurnSummary) -> None:
        if summary.error is not None:
            self.lines.write(error_event(summary.error, summary.error_type))
        completed = event(
            "turn.completed",
            status=summary.status,
            final_response=summary.final_response,
            usage=summary.usage,
            session_id=summary.session_id,
            fallback_reason=summary.fallback_reason,
            answered_by=summary.answered_by,
            limit=summary.limit,
            finish_reason=summary.finish_reason,
        )
        # The answer is left as it streamed (see the module docstring); the rest is scrubbed.
        answer = completed.pop("final_response")
        completed = redact_data(completed, self.lines.secrets)
        self.lines.write({**completed, "final_response": answer}, scrub=False)

    def close(self) -> None:
        pass


def attempt_failed_event(record: AttemptRecord) -> dict[str, Any]:
    """The `attempt.failed` event of a failed attempt (records never hold a key; the writer scrubs anyway)."""
    return event(
        "attempt.failed",
        provider=record.provider,
        key=record.key,
        error=record.error,
        error_type=record.error_type,
        next=record.next,
        delay_s=record.delay_s,
        number=record.number,
        mode=record.mode,
        status=record.status,
        duration_s=round(record.duration_s, 3),
    )


def _arguments(raw: str) -> Any:
    """The arguments as a JSON value when they parse, else the model's text as it was."""
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return raw


__all__ = ["OUTPUT_CAP", "SCHEMA_VERSION", "JsonEventDisplay", "JsonLines", "attempt_failed_event", "error_event", "event"]
