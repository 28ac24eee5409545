"""A tiny terminal emulator for tests: turns terminal output into the final lines a user sees.

Understands what rich's Live and prompt_toolkit emit to move text (CR, LF, backspace, cursor
up/down/forward/back/column, erase line, erase below) and ignores colours, cursor visibility,
keypad modes and OSC 8 hyperlinks, so a test can compare what a user would finally *see*,
repaints included.
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


def screen_lines(output: str, *, strict: bool = True) -> list[str]:
    """Replay ``output``; return every line (scrollback + screen), rstripped.

    With ``strict``, an escape sequence the emulator does not know fails the test (for
    output Herald renders itself); without it, unknown sequences are skipped (for a whole
    program in a pty, prompt_toolkit included).
    """
    lines: list[list[str]] = [[]]
    row = col = 0
    for match in _TOKEN.finditer(output):
        if match.group("text") is not None:
            line = lines[row]
            for ch in match.group("text"):
                if col < len(line):
                    line[col] = ch
                else:
                    line.extend(" " * (col - len(line)))
                    line.append(ch)
                col += 1
        elif match.group("osc") is not None or match.group("mode") is not None:
            pass
        elif match.group("ch") == "\r":
            col = 0
        elif match.group("ch") == "\n":
            row, col = row + 1, 0
            while row >= len(lines):
                lines.append([])
        elif match.group("ch") == "\x08":
            col = max(0, col - 1)
        elif match.group("cmd"):
            cmd, params = match.group("cmd"), match.group("params") or ""
            n = int(params) if params.isdigit() else 1
            if cmd == "A":
                row = max(0, row - n)
            elif cmd == "B":
                row += n
                while row >= len(lines):
                    lines.append([])
            elif cmd == "C":
                col += n
            elif cmd == "D":
                col = max(0, col - n)
            elif cmd == "G":
                col = n - 1
            elif cmd == "K":
                if params == "2":
                    lines[row] = []
                else:
                    del lines[row][col:]
            elif cmd == "J":
                del lines[row][col:]
                del lines[row + 1 :]
            elif cmd not in _IGNORED and strict:
                raise AssertionError(f"unexpected control sequence {match.group(0)!r}")
        else:
            raise AssertionError(f"unparsed output {match.group(0)!r}")
    result = ["".join(line).rstrip() for line in lines]
    while result and not result[-1]:
        result.pop()
    return result
