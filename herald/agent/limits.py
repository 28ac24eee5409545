"""Hard limits on one conversation turn: wall time, model calls, output tokens.

A limit that ends a turn makes it "limited" (not "failed"): the result names the limit and
keeps the best answer so far. The loop core (`herald.agent.loop`) enforces them, the same for
`AIAgent` and `AsyncAIAgent`; the CLI and batch only pass them on.

    TurnLimits(max_time=60)            # the turn, every attempt and wait included, ends by 60 s
    TurnLimits(max_turns=5)            # at most 5 model calls in the turn
    TurnLimits(max_output_tokens=2000) # output tokens summed over the turn's model calls
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from herald.errors import ConfigError
from herald.llm.types import LLMResponse

LimitKind = Literal["time", "turns", "tokens"]
"""Which limit ended a turn."""


@dataclass(frozen=True)
class TurnLimits:
    """The limits of one turn; None is no limit.

    Attributes:
        max_time: seconds from the turn's start, every attempt, retry wait and tool included;
            the call or tool in flight is stopped when it passes (its connection closed).
        max_turns: model calls in the turn; the model asking for one more ends it.
        max_output_tokens: output tokens summed over the turn's calls, as the provider reports
            them. Checked after each call: a call that passes it ends the turn, unless it
            was the final answer.
    """

    max_time: float | None = None
    max_turns: int | None = None
    max_output_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_time", "max_turns", "max_output_tokens"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value <= 0):
                raise ConfigError(f"{name} must be a positive number (or None for no limit), got {value!r}")

    def deadline(self, started: float) -> float | None:
        """The monotonic time the turn must end by, for a turn that started at `started`."""
        return None if self.max_time is None else started + self.max_time


class LimitReached(Exception):
    """Thrown into the loop core by a driver that stopped a step at a limit (the deadline).

    Attributes:
        kind: which limit.
        partial: what the model call that was stopped had received, if anything.
    """

    def __init__(self, kind: LimitKind, partial: LLMResponse | None = None) -> None:
        super().__init__(f"{kind} limit reached")
        self.kind: LimitKind = kind
        self.partial = partial


LIMIT_WORDS: dict[LimitKind, str] = {
    "time": "the time limit (max_time)",
    "turns": "the model-call limit (max_turns)",
    "tokens": "the output-token limit (max_output_tokens)",
}
"""How a message names each limit."""


__all__ = ["LIMIT_WORDS", "LimitKind", "LimitReached", "TurnLimits"]
