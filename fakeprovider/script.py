"""Scripting dataclasses: what the fake provider should answer, and what it saw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TOOL_CALL_STYLES = frozenset({"standard", "llamacpp", "no_index", "one_chunk", "interleaved"})

# Faults that only affect `stream: true` requests; a non-streaming request scripted
# with one of these is answered normally (that is what a fallback request gets).
STREAM_FAULTS = frozenset(
    {
        "reject_stream",
        "reject_stream_options",
        "crash_stream_options",
        "cut",
        "reset",
        "malformed",
        "html",
        "inband_error",
        "no_finish",
        "stall_first_byte",
        "stall",
        "keepalive_stall",
        "incomplete",
        "failed",
        "error_finish",
    }
)
# Faults that affect streaming and non-streaming requests alike.
BOTH_FAULTS = frozenset({"http_error", "echo_key", "trickle", "hang"})
FAULTS = STREAM_FAULTS | BOTH_FAULTS


@dataclass
class ToolCallSpec:
    """One tool call the scripted model makes; `arguments` is JSON text, sent verbatim."""

    name: str
    arguments: str = "{}"
    id: str | None = None  # None -> "call_1", "call_2", ... by position in the reply


@dataclass
class Reply:
    """One scripted answer, served to `repeat` consecutive requests on any wire."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    finish_reason: str | None = None  # None -> "tool_calls" if tool calls else "stop"
    usage: tuple[int, int] = (10, 5)  # (prompt tokens, completion tokens)
    cached_tokens: int | None = None  # of the prompt tokens, read from a cache (reported when set)
    cache_write_tokens: int | None = None  # of the prompt tokens, written to a cache (Anthropic reports it when set)
    reasoning_tokens: int | None = None  # of the completion tokens, spent reasoning (reported when set)
    model: str | None = None  # None -> echo the request's model

    # Streaming shape.
    chunk_chars: int = 4
    delay: float = 0.0
    tool_call_style: str = "standard"

    # Faults.
    fault: str | None = None
    fault_after: int = 0
    status: int = 500
    error_message: str = ""  # "" -> a realistic default message for the fault/status
    retry_after: float | None = None
    stall_seconds: float = 30.0
    repeat: int = 1

    # Responses-wire quirks.
    empty_final_output: bool = False
    # After this answer, the next request on the same connection is read and dropped unanswered
    # (the connection closed), as when a server's keep-alive timeout fires just as a client sends.
    drop_next_on_connection: bool = False
    reject_non_stream: bool = False
    # Continuation (a trailing assistant prefix, see fakeprovider/prefix.py): refuse it with a 400,
    # or echo the whole prefix before the rest, as some servers do.
    reject_prefill: bool = False
    echo_prefix: bool = False
    # A plain (non-streaming) answer takes as long as its stream would (`delay` per piece), as a
    # model's generation does: for benchmarks that compare a restart with a continuation.
    pace_plain: bool = False

    def __post_init__(self) -> None:
        # Fail at scripting time rather than with a puzzling 500 mid-test.
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {sorted(FAULTS)}")
        if self.tool_call_style not in TOOL_CALL_STYLES:
            raise ValueError(
                f"unknown tool_call_style {self.tool_call_style!r}; expected one of {sorted(TOOL_CALL_STYLES)}"
            )
        if self.repeat < 1:
            raise ValueError("repeat must be >= 1")
        self.tool_calls = list(self.tool_calls)

    @property
    def resolved_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    def call_id(self, index: int) -> str:
        spec = self.tool_calls[index]
        return spec.id if spec.id is not None else f"call_{index + 1}"

    def pieces(self, text: str) -> list[str]:
        """Split text into streaming deltas of `chunk_chars` characters (at least one piece)."""
        size = self.chunk_chars if self.chunk_chars > 0 else max(len(text), 1)
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass
class RecordedRequest:
    """A request as the fake received it."""

    path: str
    headers: dict[str, str]  # lower-case keys
    body: Any  # parsed JSON, or None when the body was not JSON
    stream: bool
    time: float  # time.monotonic() at receipt
    method: str = "POST"
    connection: int = 0  # the client's port: the same for requests over one kept-alive connection


def cut_then_continue(text: str, *, after: int, **options: Any) -> list[Reply]:
    """A stream cut after `after` chunks, then the same answer for the request that follows: a
    continuation (given the prefix) serves the rest, a restart all of it. `options` go to both."""
    return [Reply(text, fault="cut", fault_after=after, **options), Reply(text, **options)]
