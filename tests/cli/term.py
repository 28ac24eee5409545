"""A tiny terminal emulator for tests: turns terminal output into the final lines a user sees.

Understands what rich's Live and prompt_toolkit emit to move text (CR, LF, backspace, cursor
up/down/forward/back/column, erase line, erase below) and ignores colours, cursor visibility,
keypad modes and OSC 8 hyperlinks, so a test can compare what a user would finally *see*,
repaints included.

Given a `width`, it wraps like a real terminal: a character written past the last column
goes to the start of the next row (so a full-width line followed by an echoed "^C" takes
two rows). Given a `height`, rows that scroll off the top of the screen are out of reach:
the cursor cannot move up into the scrollback, exactly as on a real terminal.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-9;?]*)(?P<cmd>[A-Za-z])"  # CSI
    r"|(?P<osc>\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))"  # OSC (hyperlinks)
    r"|(?P<mode>\x1b[=>])"  # keypad modes (prompt_toolkit)
    r"|(?P<ch>[\r\n\x08])"
    r"|(?P<text>[^\x1b\r\n\x08]+)"
)

_IGNORED = "mhl"  # colours, cursor visibility and modes


class _Screen:
    """Lines (scrollback + screen) and a cursor; `top` is the first row still on screen."""

    def __init__(self, width: int | None, height: int | None) -> None:
        self.lines: list[list[str]] = [[]]
        self.row = self.col = self.top = 0
        self.width = width
        self.height = height

    def down(self, n: int = 1) -> None:
        self.row += n
        while self.row >= len(self.lines):
            self.lines.append([])
        if self.height is not None:
            self.top = max(self.top, self.row - self.height + 1)

    def up(self, n: int) -> None:
        self.row = max(self.top, self.row - n)
        self.clamp()

    def clamp(self) -> None:
        # Moving the cursor ends a pending wrap: it stays in the last column.
        if self.width is not None:
            self.col = min(self.col, self.width - 1)

    def write(self, text: str) -> None:
        for ch in text:
            if self.width is not None and self.col >= self.width:
                self.down()
                self.col = 0
            line = self.lines[self.row]
            if self.col < len(line):
                line[self.col] = ch
            else:
                line.extend(" " * (self.col - len(line)))
                line.append(ch)
            self.col += 1


def screen_lines(output: str, *, strict: bool = True, width: int | None = None, height: int | None = None) -> list[str]:
    """Replay ``output``; return every line (scrollback + screen), rstripped.

    With ``strict``, an escape sequence the emulator does not know fails the test (for
    output Herald renders itself); without it, unknown sequences are skipped (for a whole
    program in a pty, prompt_toolkit included).
    """
    screen = _replay(output, strict, width, height)
    result = ["".join(line).rstrip() for line in screen.lines]
    while result and not result[-1]:
        result.pop()
    return result


def scrolled_off(output: str, height: int, *, strict: bool = True, width: int | None = None) -> int:
    """How many rows ``output`` pushed into the scrollback of a screen ``height`` rows high."""
    return _replay(output, strict, width, height).top


def _replay(output: str, strict: bool, width: int | None, height: int | None) -> _Screen:
    screen = _Screen(width, height)
    for match in _TOKEN.finditer(output):
        if match.group("text") is not None:
            screen.write(match.group("text"))
        elif match.group("osc") is not None or match.group("mode") is not None:
            pass
        elif match.group("ch") == "\r":
            screen.col = 0
        elif match.group("ch") == "\n":
            screen.down()
            screen.col = 0
        elif match.group("ch") == "\x08":
            screen.clamp()
            screen.col = max(0, screen.col - 1)
        elif match.group("cmd"):
            _control(screen, match.group("cmd"), match.group("params") or "", strict, match.group(0))
        else:
            raise AssertionError(f"unparsed output {match.group(0)!r}")
    return screen


def _control(screen: _Screen, cmd: str, params: str, strict: bool, sequence: str) -> None:
    n = int(params) if params.isdigit() else 1
    if cmd == "A":
        screen.up(n)
    elif cmd == "B":
        screen.down(n)
        screen.clamp()
    elif cmd == "C":
        screen.col += n
        screen.clamp()
    elif cmd == "D":
        screen.clamp()
        screen.col = max(0, screen.col - n)
    elif cmd == "G":
        screen.col = n - 1
        screen.clamp()
    elif cmd == "K":
        if params == "2":
            screen.lines[screen.row] = []
        else:
            del screen.lines[screen.row][screen.col :]
    elif cmd == "J":
        del screen.lines[screen.row][screen.col :]
        del screen.lines[screen.row + 1 :]
    elif cmd not in _IGNORED and strict:
        raise AssertionError(f"unexpected control sequence {sequence!r}")
