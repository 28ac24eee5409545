"""Connect the agent's callbacks to a display, and build the agent from the settings."""

from __future__ import annotations

import sys
from typing import Any, Callable, TextIO

from rich.console import Console

from herald.agent.core import AIAgent
from herald.agent.loop import ToolProgress
from herald.cli.config import Settings
from herald.cli.display import PlainDisplay, RichDisplay, StreamDisplay
from herald.cli.errors import Failure
from herald.cli.summary import TurnTimer, summarize
from herald.llm.records import AttemptRecord
from herald.tools.approval import ApprovalRequest, Decision


class DisplayBridge:
    """Adapts the agent's callbacks to a `StreamDisplay`.

    `on_first_delta` is sent before the first reasoning/text delta of every model call
    segment (turn start, after a stream reset, after a tool): the loop does not pass one
    to the streaming call, and the displays treat it as "stop the spinner".

    It also times the turn (`TurnTimer`) and, at its end, hands the display a `TurnSummary`.
    """

    def __init__(self, display: StreamDisplay, timer: TurnTimer | None = None) -> None:
        self.display = display
        self.timer = timer or TurnTimer()
        self.agent: AIAgent | None = None
        """The agent this bridge serves (set by `make_agent`), for the session id."""
        self._awaiting_first = True

    def begin_turn(self) -> None:
        self._awaiting_first = True
        self.timer.start()
        self.display.begin_turn()

    def complete_turn(self, result: dict[str, Any], failure: Failure | None = None) -> None:
        """After the display ended the turn: summarize it for the display (footer, JSON)."""
        self.timer.call_ended()
        session_id = self.agent.session_id if self.agent is not None else None
        summary = summarize(result, self.timer, error=failure.message if failure else None, session_id=session_id)
        self.display.on_turn_complete(summary)

    def _first(self) -> None:
        if self._awaiting_first:
            self._awaiting_first = False
            self.timer.first_delta()
            self.display.on_first_delta()

    def on_text(self, delta: str) -> None:
        self._first()
        self.display.on_text(delta)

    def on_reasoning(self, delta: str) -> None:
        self._first()
        self.display.on_reasoning(delta)

    def on_stream_reset(self) -> None:
        self._awaiting_first = True
        self.timer.stream_reset()
        self.display.on_stream_reset()

    def on_stream_continued(self) -> None:
        # The first new delta is already arriving: the timer and the display go on as they were.
        self.display.on_stream_continued()

    def on_tool(self, progress: ToolProgress) -> None:
        if progress.kind == "start":
            self.timer.call_ended()
            self.display.on_tool_start(progress.name, progress.preview, arguments=progress.arguments)
        else:
            self._awaiting_first = True
            self.timer.tool_ended()
            self.display.on_tool_end(
                progress.name, progress.duration, progress.ok, progress.summary, output=progress.output
            )


def make_display(settings: Settings, *, tty: bool, out: TextIO | None = None, err: TextIO | None = None) -> StreamDisplay:
    """`RichDisplay` on a terminal, `PlainDisplay` (no ANSI, flushed per delta) on a pipe."""
    if tty:
        show = True if settings.show_reasoning is None else settings.show_reasoning
        return RichDisplay(Console(file=out or sys.stdout, highlight=False), show_reasoning=show)
    return PlainDisplay(out, err, show_reasoning=bool(settings.show_reasoning))


def make_agent(
    settings: Settings,
    bridge: DisplayBridge,
    *,
    approval: Callable[[ApprovalRequest], Decision] | None,
    session_id: str | None = None,
    headless: bool = False,
    attempt_callback: Callable[[AttemptRecord], object] | None = None,
) -> AIAgent:
    """The agent for these settings, its callbacks wired to `bridge`.

    With `stream=False` no stream consumer is attached, so every call is a plain request
    and the answer is shown when the turn ends. `headless` (-q, --json) continues no cut
    answer unless `max_continuations` says so.
    """
    streaming = settings.stream
    agent = AIAgent.from_settings(
        settings.agent_settings(headless=headless),
        session_id=session_id,
        stream_delta_callback=bridge.on_text if streaming else None,
        reasoning_callback=bridge.on_reasoning if streaming else None,
        stream_reset_callback=bridge.on_stream_reset if streaming else None,
        stream_continued_callback=bridge.on_stream_continued if streaming else None,
        tool_progress_callback=bridge.on_tool,
        approval_callback=approval,
        notice_callback=bridge.display.notice,
        attempt_callback=attempt_callback,
    )
    bridge.agent = agent
    return agent
