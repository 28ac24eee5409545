"""Asking the user before a tool does something dangerous.

`ApprovalGate` decides on three kinds of action: terminal commands that trip a rule in
`herald.tools.danger`, file writes outside the working directory, and calls of tools
(from MCP servers) that may write or run things. It asks the callback the CLI gives it;
without one (non-interactive use) it refuses, unless yolo.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from herald.tools.danger import find_dangers

log = logging.getLogger("herald.tools.approval")

Decision = Literal["once", "always", "deny"]
_DECISIONS = ("once", "always", "deny")


@dataclass(frozen=True)
class ApprovalRequest:
    """What the user is asked to approve.

    Attributes:
        kind: "command" (a terminal command), "write" (a file write outside the working dir)
            or "tool" (a call of a tool that may change things, e.g. from an MCP server).
        subject: the command line, the resolved path to be written, or the tool and its arguments.
        reasons: why it needs approval, one human sentence per tripped rule.
        keys: the rule keys; answering "always" approves these for the gate's lifetime.
    """

    kind: Literal["command", "write", "tool"]
    subject: str
    reasons: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def reason(self) -> str:
        """All reasons as one line."""
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: `allowed`, and if not, `message` is what the model is told."""

    allowed: bool
    message: str = ""


ApprovalCallback = Callable[[ApprovalRequest], Decision]


class ApprovalGate:
    """Decides whether a dangerous action may run.

    Args:
        callback: asks the user; returns "once", "always" or "deny". None means nobody
            can be asked, so dangerous actions are refused (unless `yolo`).
        yolo: approve everything without asking. May be toggled later (`gate.yolo = True`).

    A callback that raises, returns anything else, or during which the session is
    interrupted counts as "deny". Calls are serialised so two prompts never overlap.
    """

    def __init__(self, callback: ApprovalCallback | None = None, yolo: bool = False) -> None:
        self.callback = callback
        self.yolo = yolo
        self._always: set[str] = set()
        self._lock = threading.Lock()

    @property
    def approved_keys(self) -> frozenset[str]:
        """Rule keys (and `write:<dir>` keys) the user approved with "always"."""
        return frozenset(self._always)

    def check_command(self, command: str, *, is_interrupted: Callable[[], bool] | None = None) -> Verdict:
        """May this terminal command run? Safe commands are allowed without asking."""
        dangers = [d for d in find_dangers(command) if d.key not in self._always]
        if not dangers:
            return Verdict(True)
        request = ApprovalRequest(
            kind="command",
            subject=command,
            reasons=tuple(d.reason for d in dangers),
            keys=tuple(d.key for d in dangers),
        )
        return self._decide(request, is_interrupted)

    def check_write(self, path: Path, cwd: Path, *, is_interrupted: Callable[[], bool] | None = None) -> Verdict:
        """May a tool write `path`? Inside `cwd` (after resolving symlinks and `..`) always;
        outside, only with approval. "always" approves the target's directory and below."""
        target = path.resolve()
        root = cwd.resolve()
        if target.is_relative_to(root):
            return Verdict(True)
        if any(target.is_relative_to(Path(k.removeprefix("write:"))) for k in self._always if k.startswith("write:")):
            return Verdict(True)
        request = ApprovalRequest(
            kind="write",
            subject=str(target),
            reasons=(f"writes outside the working directory {root}",),
            keys=(f"write:{target.parent}",),
        )
        return self._decide(request, is_interrupted)

    def check_tool_call(
        self, name: str, subject: str, reason: str, *, is_interrupted: Callable[[], bool] | None = None
    ) -> Verdict:
        """May this call of tool `name` run? `subject` shows the call, `reason` why it asks.
        "always" approves every later call of the same tool."""
        key = f"tool:{name}"
        if key in self._always:
            return Verdict(True)
        request = ApprovalRequest(kind="tool", subject=subject, reasons=(reason,), keys=(key,))
        return self._decide(request, is_interrupted)

    def _decide(self, request: ApprovalRequest, is_interrupted: Callable[[], bool] | None) -> Verdict:
        if self.yolo:
            return Verdict(True)
        if self.callback is None:
            return Verdict(False, f"refused: {request.reason}; ask the user to run it or enable yolo")
        with self._lock:
            decision = self._ask(request)
        if decision != "deny" and is_interrupted is not None and is_interrupted():
            decision = "deny"  # the user pressed stop while (or before) answering
        if decision == "always":
            self._always.update(request.keys)
        if decision in ("once", "always"):
            return Verdict(True)
        return Verdict(
            False,
            f"refused: the user denied this ({request.reason}). Do not retry it; "
            "find another way or ask the user what they want.",
        )

    def _ask(self, request: ApprovalRequest) -> Decision:
        try:
            answer = self.callback(request)  # type: ignore[misc]
        except (Exception, KeyboardInterrupt) as exc:  # a prompt cut short is a "no", never a crash
            log.debug("approval callback failed: %r", exc)
            return "deny"
        if answer not in _DECISIONS:
            log.debug("approval callback returned %r; treating as deny", answer)
            return "deny"
        return answer
