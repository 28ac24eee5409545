"""Run one conversation turn on a display, with Ctrl-C wired to `agent.interrupt()`."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from herald.agent.core import AIAgent
from herald.cli.answered import answered_by_line
from herald.cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Failure,
    describe_result,
)
from herald.cli.keys import KeyWatch
from herald.cli.wiring import DisplayBridge

DOUBLE_PRESS_S = 2.0


@dataclass
class InterruptClock:
    """Remembers the last Ctrl-C so a second one within `DOUBLE_PRESS_S` means "quit"."""

    clock: Callable[[], float] = time.monotonic
    last: float | None = field(default=None)

    def press(self) -> bool:
        """Record a Ctrl-C; True when it is the second within the window."""
        now = self.clock()
        double = self.last is not None and now - self.last <= DOUBLE_PRESS_S
        self.last = now
        return double


@contextmanager
def interrupts_stop(agent: AIAgent, clock: InterruptClock) -> Iterator[None]:
    """While the block runs, Ctrl-C interrupts the agent; a second one raises KeyboardInterrupt.

    The agent's interrupt wakes whatever the call is waiting on, so the turn ends at
    once with what had arrived; raising on the first press would lose that.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if clock.press():
            raise KeyboardInterrupt
        agent.interrupt()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended: the agent's result, the exit code it implies, the failure shown."""

    result: dict[str, Any]
    exit_code: int
    failure: Failure | None = None
    eof: bool = False
    """Ctrl-D was pressed while the answer streamed: the person wants to leave."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.result.get("messages") or [])


def run_turn(
    agent: AIAgent,
    bridge: DisplayBridge,
    message: str,
    history: list[dict[str, Any]],
    clock: InterruptClock,
    keys: KeyWatch | None = None,
    *,
    in_chat: bool = False,
) -> TurnOutcome:
    """Ask, stream the answer to the display and end the turn on screen, whatever happens.

    With `keys`, Ctrl-D during the turn stops the answer (the outcome says `eof`). `in_chat`:
    error hints may name chat commands (/new).
    Raises KeyboardInterrupt on a second Ctrl-C (the display is closed first).
    """
    display = bridge.display
    bridge.begin_turn()
    try:
        with interrupts_stop(agent, clock), keys.watching() if keys is not None else nullcontext():
            turn = agent.run_turn(message, conversation_history=history)
    except BaseException:
        _close(display)
        raise
    result = turn.as_dict()
    if agent.stream_delta_callback is None and result.get("final_response"):
        display.on_first_delta()
        display.on_text(result["final_response"])  # --no-stream: the answer at the end
    if result.get("interrupted"):
        display.end_turn(interrupted=True)
        bridge.complete_turn(result)
        if keys is not None and keys.eof:
            return TurnOutcome(result, EXIT_OK, eof=True)
        return TurnOutcome(result, EXIT_INTERRUPTED)
    display.end_turn()
    if result.get("truncated"):
        display.notice(cut_marker(agent.max_tokens))
    if result.get("failed") or not result.get("completed"):
        failure = describe_result(turn, (agent.endpoint.api_key,), in_chat=in_chat)
        display.error(failure.message)
        bridge.complete_turn(result, failure)
        return TurnOutcome(result, failure.exit_code or EXIT_FAILED, failure)
    note = answered_by_line(result)
    if note is not None:
        display.notice(note)
    bridge.complete_turn(result)
    return TurnOutcome(result, EXIT_OK)


def cut_marker(max_tokens: int | None) -> str:
    """The note under an answer the token cap cut short."""
    where = f"{max_tokens} tokens" if max_tokens else "the provider's output limit"
    return f"(cut at {where}: --max-tokens to raise)"


def _close(display: object) -> None:
    close = getattr(display, "close", None)
    if close is not None:
        close()
    else:
        display.end_turn(interrupted=True)  # type: ignore[attr-defined]
