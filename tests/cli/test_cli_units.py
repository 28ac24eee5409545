"""Small pieces of the CLI: error lines, the display bridge, the approval prompt, the interrupt clock."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from herald.agent.loop import ToolProgress
from herald.agent.result import TurnResult
from herald.cli.approval import TerminalApproval
from herald.cli.errors import EXIT_FAILED, EXIT_USAGE, describe, describe_result
from herald.cli.turn import InterruptClock
from herald.cli.wiring import DisplayBridge
from herald.errors import AuthenticationError, ConfigError, ModelNotFoundError, ProviderUnreachable
from herald.tools.approval import ApprovalRequest


def test_error_lines_have_a_hint_and_an_exit_code() -> None:
    auth = describe("x answered HTTP 401: bad key sk-abcdefghijklmnop1234", AuthenticationError, ("sk-abcdefghijklmnop1234",))
    assert "sk-abcdefghijklmnop1234" not in auth.message and "check HERALD_API_KEY" in auth.message
    assert auth.exit_code == EXIT_FAILED
    assert "check --model" in describe("404", ModelNotFoundError).message
    assert "is the server running?" in describe("h unreachable: refused", ProviderUnreachable).message
    assert describe("no API key for h", ConfigError).exit_code == EXIT_USAGE
    assert "\n" not in describe("multi\nline\nmessage", None).message


def test_a_failed_turn_is_described_by_its_error_object_not_its_text() -> None:
    error = ModelNotFoundError("h:1 answered HTTP 404: nope", status=404)
    failure = describe_result(TurnResult("failed", None, [], error=error, error_message=str(error)))
    assert "check --model" in failure.message and failure.exit_code == EXIT_FAILED
    config = ConfigError("bad value")
    assert describe_result(TurnResult("failed", None, [], error=config, error_message="bad value")).exit_code == EXIT_USAGE
    # Text that merely looks like an HTTP 401 is not taken for one: the type decides.
    lookalike = TurnResult("incomplete", None, [], error_message="the model said: h:1 answered HTTP 401: nope")
    assert "check HERALD_API_KEY" not in describe_result(lookalike).message


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.calls.append((name, args))


def test_bridge_sends_first_delta_once_per_segment() -> None:
    display = Recorder()
    bridge = DisplayBridge(display)  # type: ignore[arg-type]
    bridge.begin_turn()
    bridge.on_reasoning("hm")
    bridge.on_text("a")
    bridge.on_text("b")
    bridge.on_tool(ToolProgress("start", "terminal", "ls", "c1"))
    bridge.on_tool(ToolProgress("end", "terminal", "ls", "c1", 0.5, True))
    bridge.on_text("c")
    bridge.on_stream_reset()
    bridge.on_text("full")
    names = [name for name, _ in display.calls]
    assert names == [
        "begin_turn", "on_first_delta", "on_reasoning", "on_text", "on_text",
        "on_tool_start", "on_tool_end", "on_first_delta", "on_text",
        "on_stream_reset", "on_first_delta", "on_text",
    ]


def test_approval_prompt_shows_command_and_reason_and_maps_answers() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    display = Recorder()
    answers = iter(["maybe", "A"])
    approval = TerminalApproval(display, console, ask=lambda q: next(answers))  # type: ignore[arg-type]
    request = ApprovalRequest("command", "rm -rf build", ("deletes files recursively",), ("rm_rf",))
    assert approval(request) == "always"
    text = out.getvalue()
    assert "rm -rf build" in text and "deletes files recursively" in text and "please answer" in text
    assert ("close", ()) in display.calls  # the live region was stopped before asking

    def interrupted(question: str) -> str:
        raise KeyboardInterrupt

    assert TerminalApproval(display, console, ask=interrupted)(request) == "deny"  # type: ignore[arg-type]


def test_interrupt_clock_double_press_window() -> None:
    now = [0.0]
    clock = InterruptClock(clock=lambda: now[0])
    assert clock.press() is False
    now[0] = 1.5
    assert clock.press() is True
    now[0] = 5.0
    assert clock.press() is False
