"""Benchmark: CPU cost of showing a streamed markdown answer, by answer length.

Compares ``LiveMarkdown`` (completed blocks rendered once, only the tail
re-rendered per frame) with the common approach: a rich ``Live`` showing
``Markdown(everything so far)``, re-rendered on every frame.

Fairness: both sides see the same deltas (~4 characters each) arriving at
the same simulated pace (a fake clock advancing 1/60 s per delta) and both
render at most 12 frames per simulated second; the baseline re-renders the
whole accumulated text on each of those frames, ours only the visible tail.
Both write to ``Console(file=io.StringIO(), force_terminal=True, width=100)``.
CPU time is ``time.process_time``.

Usage: ``python bench/render_scaling.py [--quick]``; ``run(sizes)`` returns
the rows for other scripts.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown

# Runnable as a script from anywhere: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from herald.cli.live import LiveMarkdown  # noqa: E402

FPS = 12.0
DELTA_CHARS = 4
DELTA_SECONDS = 1 / 60  # ~240 chars per simulated second
FULL_SIZES = (1, 4, 16)
QUICK_SIZES = (1, 2)


def section(i: int) -> str:
    """One realistic chunk of an LLM answer: prose, lists, code, a table."""
    return f"""## Step {i}: loading the configuration

To load the configuration **safely**, read the file once and validate it with
`load_config()`. The function returns a frozen dataclass, so callers cannot
mutate shared state by accident; see [the docs](https://example.com/docs/{i}).

Things to check first:

- the path exists and is readable;
- the file is valid *TOML* (not YAML);
- every required key is present:
  `name`, `model` and `timeout`.

```python
from dataclasses import dataclass
from pathlib import Path
import tomllib


@dataclass(frozen=True)
class Config:
    name: str
    model: str
    timeout: float = 30.0


def load_config(path: Path) -> Config:
    data = tomllib.loads(path.read_text())

    return Config(**data["agent"])
```

| key     | type  | default |
|---------|-------|---------|
| name    | str   | —       |
| model   | str   | —       |
| timeout | float | 30.0    |

1. Call `load_config` at start-up.
2. Pass the result down explicitly.
3. Never re-read the file per request (step {i}).

> Tip: keep secrets out of the file and read them from the environment.
"""


def answer(size: int, sections_per_unit: int = 2) -> str:
    """An answer ``size`` times the base length."""
    return "\n".join(section(i) for i in range(size * sections_per_unit))


def deltas(text: str) -> list[str]:
    return [text[i : i + DELTA_CHARS] for i in range(0, len(text), DELTA_CHARS)]


def make_console() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=100, height=40)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_ours(pieces: list[str]) -> float:
    """CPU seconds to stream ``pieces`` through LiveMarkdown."""
    clock = FakeClock()
    start = time.process_time()
    live = LiveMarkdown(make_console(), auto_refresh=False, refresh_per_second=FPS, clock=clock)
    try:
        for piece in pieces:
            live.feed(piece)
            clock.now += DELTA_SECONDS
    finally:
        live.finish()
    return time.process_time() - start


def run_baseline(pieces: list[str]) -> float:
    """CPU seconds for Live(Markdown(all text so far)) re-rendered per frame."""
    clock = FakeClock()
    start = time.process_time()
    text = ""
    last_frame = float("-inf")
    with Live(console=make_console(), auto_refresh=False) as live:
        for piece in pieces:
            text += piece
            if clock() - last_frame >= 1 / FPS:
                last_frame = clock()
                live.update(Markdown(text), refresh=True)
            clock.now += DELTA_SECONDS
        live.update(Markdown(text), refresh=True)
    return time.process_time() - start


def run(sizes: tuple[int, ...] | list[int] = FULL_SIZES, sections_per_unit: int = 2) -> list[dict]:
    """Measure each size; one dict per size (growth is relative to the previous row)."""
    # Warm up both paths (lexer imports, style caches) so 1x is not penalised.
    warm = deltas(section(0))
    run_ours(warm)
    run_baseline(warm)
    rows: list[dict] = []
    for size in sizes:
        pieces = deltas(answer(size, sections_per_unit))
        ours = run_ours(pieces)
        baseline = run_baseline(pieces)
        previous = rows[-1] if rows else None
        rows.append(
            {
                "size": size,
                "chars": sum(len(p) for p in pieces),
                "deltas": len(pieces),
                "ours_cpu_s": ours,
                "baseline_cpu_s": baseline,
                "ratio": baseline / ours if ours else float("inf"),
                "ours_growth": ours / previous["ours_cpu_s"] if previous else None,
                "size_growth": size / previous["size"] if previous else None,
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    header = f"{'size':>5} {'chars':>8} {'ours CPU s':>11} {'baseline CPU s':>15} {'baseline/ours':>14} {'ours growth':>16}"
    lines = [header, "-" * len(header)]
    for row in rows:
        growth = (
            f"x{row['ours_growth']:.1f} (size x{row['size_growth']:.0f})"
            if row["ours_growth"] is not None
            else "-"
        )
        lines.append(
            f"{str(row['size']) + 'x':>5} {row['chars']:>8} {row['ours_cpu_s']:>11.3f}"
            f" {row['baseline_cpu_s']:>15.3f} {row['ratio']:>14.1f} {growth:>16}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CI smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        rows = run(QUICK_SIZES, sections_per_unit=1)
    else:
        rows = run(FULL_SIZES)
    print(
        f"streamed {DELTA_CHARS} chars/delta, {1 / DELTA_SECONDS:.0f} deltas/s simulated, "
        f"both sides capped at {FPS:.0f} fps (fake clock)"
    )
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
