"""Ask the person at the terminal whether a dangerous action may run."""

from __future__ import annotations

from typing import Callable

from rich.console import Console
from rich.text import Text

from herald.cli.display import StreamDisplay
from herald.tools.approval import ApprovalRequest, Decision

_ANSWERS: dict[str, Decision] = {
    "o": "once", "once": "once", "y": "once", "yes": "once",
    "a": "always", "always": "always",
    "d": "deny", "deny": "deny", "n": "deny", "no": "deny",
}
_WHAT = {
    "command": "run this command",
    "write": "write outside the working directory",
    "tool": "call this tool",
}
QUESTION = "Allow? [o]nce / [a]lways for this session / [d]eny: "


def _prompt_toolkit_ask(question: str) -> str:
    from prompt_toolkit import prompt

    return prompt(question)


class TerminalApproval:
    """The approval callback for a terminal: shows what and why, asks once/always/deny.

    The display's live region (spinner) is stopped first, so the question is not
    painted over. Ctrl-C or Ctrl-D at the question denies.
    """

    def __init__(
        self,
        display: StreamDisplay,
        console: Console,
        ask: Callable[[str], str] = _prompt_toolkit_ask,
    ) -> None:
        self._display = display
        self._console = console
        self._ask = ask

    def __call__(self, request: ApprovalRequest) -> Decision:
        close = getattr(self._display, "close", None)
        if close is not None:
            close()  # stop any Live region before the prompt takes the terminal
        what = _WHAT.get(request.kind, request.kind)
        self._console.print(Text.assemble(("⚠ approval needed: ", "bold yellow"), (what, "bold")))
        self._console.print(Text("  " + request.subject, style="bold"))
        for reason in request.reasons:
            self._console.print(Text("  · " + reason, style="yellow"))
        while True:
            try:
                answer = self._ask(QUESTION).strip().lower()
            except (KeyboardInterrupt, EOFError):
                answer = "deny"
            decision = _ANSWERS.get(answer)
            if decision is not None:
                self._console.print(Text(f"→ {decision}", style="dim"))
                return decision
            self._console.print(Text("please answer o, a or d", style="dim"))
