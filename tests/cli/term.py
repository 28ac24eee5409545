"""A tiny terminal emulator for tests: turns rich's output into final lines.

Understands what rich's Live emits (carriage return, cursor up, erase line,
cursor show/hide) and ignores SGR colours and OSC 8 hyperlinks, so a test can
compare what a user would finally *see*, repaints included.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-9;?]*)(?P<cmd>[A-Za-z])"  # CSI
    r"|(?P<osc>\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))"  # OSC (hyperlinks)
    r"|(?P<ch>[\r\n])"
    r"|(?P<text>[^\x1b\r\n]+)"
)


def screen_lines(output: str) -> list[str]:
    """Replay ``output``; return every line (scrollback + screen), rstripped."""
    lines: list[list[str]] = [[]]
    row, col = 0, 0
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
        elif match.group("osc") is not None:
            pass
        elif match.group("ch") == "\r":
            col = 0
        elif match.group("ch") == "\n":
            row += 1
            col = 0
            if row == len(lines):
                lines.append([])
        elif match.group("cmd"):
            cmd, params = match.group("cmd"), match.group("params")
            if cmd == "A":
                row = max(0, row - int(params or 1))
            elif cmd == "B":
                row += int(params or 1)
                while row >= len(lines):
                    lines.append([])
            elif cmd == "K":
                if params == "2":
                    lines[row] = []
                else:
                    del lines[row][col:]
            elif cmd == "G":
                col = int(params or 1) - 1
            elif cmd in "mhl":
                pass  # colours, cursor visibility
            else:
                raise AssertionError(f"unexpected control sequence {match.group(0)!r}")
        else:
            raise AssertionError(f"unparsed output {match.group(0)!r}")
    result = ["".join(line).rstrip() for line in lines]
    while result and not result[-1]:
        result.pop()
    return result
