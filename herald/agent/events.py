"""What `AsyncAIAgent.stream()` yields: small typed events, each with a `kind`.

    async for event in agent.stream("question"):
        if event.kind == "text":
            print(event.text, end="")
        elif event.kind == "reset":
            ...  # the text shown so far is void: a fallback replaced the stream
        elif event.kind == "continued":
            ...  # the stream broke and the answer goes on in place: keep what was shown
        elif event.kind == "done":
            result = event.result        # the run_conversation dict

A consumer that clears what it showed on `reset` ends with exactly the final answer.

One vocabulary for a turn: the text, reasoning, reset and continued events are the client's
(`herald.llm.events`); a tool's progress is one `ToolProgress`, which `AIAgent`'s
`tool_progress_callback` receives and `stream()` yields as `ToolStartedEvent` /
`ToolFinishedEvent` (`ToolProgress.as_event`). The CLI's displays, `--json` and batch rows are
adapters of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

from herald.agent.result import TurnResult
from herald.llm.events import ContinuedEvent, ReasoningEvent, ResetEvent, TextEvent  # one vocabulary with the client's


@dataclass(frozen=True)
class ToolStartedEvent:
    """A tool call begins (the answer text of this model call has ended)."""

    name: str
    """The tool's name."""
    arguments: str
    """The arguments as the model sent them (JSON text)."""
    call_id: str
    """The model's id for the call."""
    preview: str = ""
    """A one-line summary of the arguments, for displays."""
    kind: Literal["tool_started"] = "tool_started"


@dataclass(frozen=True)
class ToolFinishedEvent:
    """A tool call ended."""

    name: str
    arguments: str
    call_id: str
    ok: bool
    """Whether it succeeded."""
    duration: float
    """Seconds it ran."""
    summary: str = ""
    """The first line of its error, when not ok."""
    preview: str = ""
    kind: Literal["tool_finished"] = "tool_finished"


@dataclass(frozen=True)
class ToolProgress:
    """One tool's progress, for displays.

    Attributes:
        kind: "start" when the tool begins (the text stream's turn ends here), "end" when it finished.
        name: the tool's name.
        preview: a short one-line preview of its arguments.
        call_id: the model's id for this call.
        duration: seconds the tool ran ("end" only).
        ok: whether it succeeded ("end" only).
        summary: the first line of an error ("end" only, when not ok).
        arguments: the arguments as the model sent them (JSON text).
        output: what the tool returned to the model ("end" only).
    """

    kind: Literal["start", "end"]
    name: str
    preview: str
    call_id: str
    duration: float = 0.0
    ok: bool = True
    summary: str = ""
    arguments: str = ""
    output: str = ""

    def as_event(self) -> ToolStartedEvent | ToolFinishedEvent:
        """The same progress as `AsyncAIAgent.stream()` yields it."""
        if self.kind == "start":
            return ToolStartedEvent(self.name, self.arguments, self.call_id, self.preview)
        return ToolFinishedEvent(self.name, self.arguments, self.call_id, self.ok, self.duration, self.summary, self.preview)


@dataclass(frozen=True)
class DoneEvent:
    """The turn ended; always the last event."""

    turn: TurnResult
    """The typed result."""
    result: dict[str, Any] = field(default_factory=dict)
    """The same as `run_conversation` returns (`turn.as_dict()`)."""
    kind: Literal["done"] = "done"


StreamEvent = Union[TextEvent, ReasoningEvent, ResetEvent, ContinuedEvent, ToolStartedEvent, ToolFinishedEvent, DoneEvent]

__all__ = [
    "ContinuedEvent",
    "DoneEvent",
    "ReasoningEvent",
    "ResetEvent",
    "StreamEvent",
    "TextEvent",
    "ToolFinishedEvent",
    "ToolProgress",
    "ToolStartedEvent",
]
