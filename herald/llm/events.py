"""What a streamed model call yields: small typed events, each with a `kind`.

The one vocabulary of a call's progress, used by `herald.Client.stream`,
`herald.AsyncClient.stream` and, with tool events added, by `AsyncAIAgent.stream`:

    async for event in client.stream(messages):
        if event.kind == "text":
            print(event.text, end="")
        elif event.kind == "reset":
            ...  # the text shown so far is void: a replacement follows
        elif event.kind == "done":
            response = event.response        # the LLMResponse

A consumer that clears what it showed on `reset` ends with exactly the final answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from herald.llm.records import AttemptRecord
from herald.llm.types import LLMResponse


@dataclass(frozen=True)
class TextEvent:
    """A piece of the answer."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ReasoningEvent:
    """A piece of the model's reasoning, when the provider shows it."""

    text: str
    kind: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True)
class ResetEvent:
    """The text and reasoning delivered so far in this model call are void: a failed attempt's
    text, replaced by another attempt's answer, which follows."""

    kind: Literal["reset"] = "reset"


@dataclass(frozen=True)
class ContinuedEvent:
    """The stream was cut and is continued from where it stopped: nothing delivered is void,
    the text goes on in place."""

    kind: Literal["continued"] = "continued"


@dataclass(frozen=True)
class AttemptEvent:
    """One request of the call ended (see `AttemptRecord`): failed ones show recoveries as they happen."""

    record: AttemptRecord
    kind: Literal["attempt"] = "attempt"


@dataclass(frozen=True)
class ResponseEvent:
    """The call's answer; always last."""

    response: LLMResponse
    kind: Literal["done"] = "done"


CallEvent = Union[TextEvent, ReasoningEvent, ResetEvent, ContinuedEvent, AttemptEvent, ResponseEvent]

__all__ = ["AttemptEvent", "CallEvent", "ContinuedEvent", "ReasoningEvent", "ResetEvent", "ResponseEvent", "TextEvent"]
