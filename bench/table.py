"""The report: rows of (section, metric, Herald, baseline, ratio, target, verdict), as text or Markdown."""

from __future__ import annotations

from dataclasses import dataclass

HEADERS = ("section", "metric", "herald", "baseline", "ratio", "target", "met")


@dataclass(frozen=True)
class Row:
    """One line of the report. `met` is None for rows that are informational only."""

    section: str
    metric: str
    herald: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None

    def cells(self) -> tuple[str, ...]:
        verdict = "—" if self.met is None else ("yes" if self.met else "NO")
        return (self.section, self.metric, self.herald, self.baseline, self.ratio, self.target, verdict)


def render_text(rows: list[Row]) -> str:
    """A fixed-width table for a terminal."""
    grid = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(HEADERS))]
    out = []
    for number, line in enumerate(grid):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def render_markdown(rows: list[Row]) -> str:
    """A GitHub-flavoured Markdown table."""
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    out = [line(HEADERS), "|" + "|".join("---" for _ in HEADERS) + "|"]
    out.extend(line(row.cells()) for row in rows)
    return "\n".join(out)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def signed_ms(seconds: float) -> str:
    return f"{seconds * 1000:+.2f} ms"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.3f}×" if baseline > 0 else "—"
