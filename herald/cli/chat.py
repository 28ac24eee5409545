"""`herald`: the interactive chat loop.

Input is prompt_toolkit with a persistent history file in the data directory. Enter sends;
Esc-Enter (Alt-Enter) inserts a newline, and so does Enter after a trailing backslash.
Ctrl-C during an answer stops it (a second within 2 s quits); Ctrl-C at the prompt clears
the line (twice within 2 s quits); Ctrl-D at an empty prompt quits, and so does Ctrl-D
during an answer (after stopping it). Text typed during an answer waits at the next prompt.
"""

from __future__ import annotations

import sys
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from rich.console import Console
from rich.text import Text

from herald.cli.approval import TerminalApproval
from herald.cli.config import Settings
from herald.cli.errors import EXIT_INTERRUPTED, EXIT_OK
from herald.cli.keys import KeyWatch
from herald.cli.mcp import warn_unavailable
from herald.cli.resume import Resumed
from herald.cli.slash import ChatState, is_slash, run_slash
from herald.cli.turn import InterruptClock, run_turn
from herald.cli.wiring import DisplayBridge, make_agent, make_display
from herald.paths import data_dir

PROMPT = "› "
HISTORY_FILE = "history"


def key_bindings() -> KeyBindings:
    """Enter sends, unless the line ends with a backslash; Esc-Enter always adds a newline."""
    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.document.text_before_cursor.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    return bindings


def make_prompt_session() -> PromptSession[str]:
    return PromptSession(
        history=FileHistory(str(data_dir() / HISTORY_FILE)),
        key_bindings=key_bindings(),
        multiline=False,
        prompt_continuation=lambda width, line, wrapped: "… ".rjust(width),
    )


def run_chat(settings: Settings, resumed: Resumed, *, stdout: TextIO | None = None) -> int:
    """The interactive loop; returns the exit code (0 on /quit or Ctrl-D, 130 on double Ctrl-C)."""
    out = stdout or sys.stdout
    display = make_display(settings, tty=out.isatty(), out=out)
    console: Console = getattr(display, "console", None) or Console(file=out, highlight=False)
    bridge = DisplayBridge(display)
    keys = KeyWatch(lambda: agent.interrupt())
    approval = keys.pausing(TerminalApproval(display, console))  # the question reads the keys itself
    agent = make_agent(settings, bridge, approval=approval, session_id=resumed.session_id)
    state = ChatState(agent, display, console, list(resumed.history))
    warn_unavailable(agent, lambda line: print(line, file=sys.stderr, flush=True))
    console.print(Text(f"herald · {agent.model} · /help for commands, Ctrl-D to quit", style="dim"))
    if resumed.note:
        console.print(Text(resumed.note, style="dim"))
    for line in resumed.recap:
        console.print(Text("  " + line, style="dim"))
    session = make_prompt_session()
    clock = InterruptClock()
    try:
        while True:
            try:
                text = session.prompt(PROMPT, default=keys.take_typed())
            except KeyboardInterrupt:
                if clock.press():
                    return EXIT_INTERRUPTED
                console.print(Text("(Ctrl-C again to quit, or Ctrl-D)", style="dim"))
                continue
            except EOFError:
                return EXIT_OK
            text = text.strip()
            if not text:
                continue
            if is_slash(text):
                if not run_slash(state, text):
                    return EXIT_OK
                continue
            try:
                outcome = run_turn(agent, bridge, text, state.history, clock, keys, in_chat=True)
            except KeyboardInterrupt:
                return EXIT_INTERRUPTED
            # The result's history includes this turn (even a failed or interrupted one).
            state.history[:] = outcome.messages
            if outcome.eof:
                return EXIT_OK
            console.print()  # a blank line between the answer and the next prompt
    finally:
        close = getattr(display, "close", None)
        if close is not None:
            close()
        agent.close()  # MCP servers go with the chat
