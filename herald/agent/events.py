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
    "ToolStartedEvent",
]
