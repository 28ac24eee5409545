"""`herald -q QUESTION`: stream one answer and exit with its outcome."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console

from herald.cli.approval import TerminalApproval
from herald.cli.config import Settings
from herald.cli.display import StreamDisplay
from herald.cli.errors import EXIT_INTERRUPTED
from herald.cli.json_events import JsonEventDisplay
from herald.cli.mcp import warn_unavailable
from herald.cli.resume import Resumed
from herald.cli.turn import InterruptClock, run_turn
from herald.cli.wiring import DisplayBridge, make_agent, make_display


def run_oneshot(
    settings: Settings,
    question: str,
    resumed: Resumed,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    interactive: bool | None = None,
    json_events: bool = False,
    resend: bool = False,
) -> int:
    """Ask once; 0 on success, 1 failed, 2 configuration error, 3 a limit ended it, 130 interrupted.

    On a terminal the answer is rendered live (`RichDisplay`) and dangerous actions are
    asked about; otherwise plain text is written as it arrives and nobody is asked
    (such actions are refused unless --yolo). With `json_events`, stdout gets the turn as
    JSON Lines (`herald.cli.json_events`) and nobody is asked either. With `resend`, the
    question is the resumed session's last user turn, sent again (`herald -c --retry`).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    tty = out.isatty()
    if json_events:
        interactive = False
    elif interactive is None:
        interactive = tty and sys.stdin.isatty()
    display: StreamDisplay
    if json_events:
        display = JsonEventDisplay(out, model=settings.model)
    else:
        display = make_display(settings, tty=tty, out=out, err=err)
    if resumed.note:
        err.write(resumed.note + "\n")
    approval = None
    if interactive:
        console = getattr(display, "console", None) or Console(file=out)
        approval = TerminalApproval(display, console)
    bridge = DisplayBridge(display)
    agent = make_agent(
        settings, bridge, approval=approval, session_id=resumed.session_id, headless=True,
        attempt_callback=display.on_attempt if isinstance(display, JsonEventDisplay) else None,
    )
    if isinstance(display, JsonEventDisplay):
        display.lines.secrets = (agent.endpoint.api_key, settings.api_key)
    try:
        warn_unavailable(agent, lambda line: print(line, file=err, flush=True))
        outcome = run_turn(agent, bridge, question, resumed.history, InterruptClock(), resend=resend)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        close = getattr(display, "close", None)
        if close is not None:
            close()
        agent.close()  # MCP servers go with the answer
    return outcome.exit_code
