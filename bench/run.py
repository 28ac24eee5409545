"""Herald's benchmark entry point: every section against its baseline, in one run.

    PYTHONPATH=. python -m bench [--quick] [--markdown] [--only 1,3]

Prints the machine and versions, the exact command, then one table. Ratios compare
Herald with a baseline measured in the same run (interleaved, medians), so they mean
something even on a noisy shared machine; absolute figures are shown beside them.
Exit status 1 if a section failed to run (a missed target is a result, not a failure).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):  # `python bench/run.py`: the repository, not bench/, is the path's head
    _here = str(Path(__file__).resolve().parent)  # (bench/concurrent.py would shadow the standard library's)
    sys.path[:] = [str(Path(_here).parent)] + [p for p in sys.path if p and Path(p).resolve() != Path(_here)]

from bench import bad_provider, concurrent, first_delta, interrupt, memory, render, stream_overhead  # noqa: E402
from bench import failover  # noqa: E402
from bench import mcp_calls  # noqa: E402
from bench import batch  # noqa: E402
from bench import conduct  # noqa: E402
from bench import gateway, gateway_faults  # noqa: E402
from bench import continuation  # noqa: E402
from bench.machine import describe  # noqa: E402
from bench.table import Row, render_markdown, render_text  # noqa: E402

SECTIONS: dict[str, tuple[str, Callable[[bool], list[Row]]]] = {
    "1": (stream_overhead.SECTION, stream_overhead.run),
    "2": (first_delta.SECTION, first_delta.run),
    "3": (interrupt.SECTION, interrupt.run),
    "4": (bad_provider.SECTION, bad_provider.run),
    "5": (render.SECTION, render.run),
    "6": (memory.SECTION, memory.run),
    "7": (concurrent.SECTION, concurrent.run),
    "8": (failover.SECTION, failover.run),
    "9": (mcp_calls.SECTION, mcp_calls.run),
    "10": (batch.SECTION, batch.run),
    "11": (conduct.SECTION, conduct.run),
    "12": (gateway.SECTION, gateway.run),
    "13": (gateway_faults.SECTION, gateway_faults.run),
    "14": (continuation.SECTION, continuation.run),
}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds (CI smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", default="", help="comma-separated section numbers, e.g. 1,3")
    return parser.parse_args(argv)


def _invocation() -> list[str]:
    """How this process was started: `-m bench`, or the script's path."""
    script = sys.argv[0] if sys.argv else ""
    if script.endswith("run.py") and not script.endswith("__main__.py"):
        return [script]
    return ["-m", "bench"]


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    args = _parse(args_list)
    chosen = [key.strip() for key in args.only.split(",") if key.strip()] or list(SECTIONS)
    unknown = [key for key in chosen if key not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    for line in describe([*_invocation(), *args_list]):
        print(line)
    rows: list[Row] = []
    failed = False
    for key in chosen:
        name, section = SECTIONS[key]
        started = time.perf_counter()
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            rows.extend(section(args.quick))
        except Exception as error:  # one broken section must not hide the others' results
            traceback.print_exc()
            rows.append(Row(name, "ERROR", f"{type(error).__name__}: {error}"))
            failed = True
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print()
    print(render_markdown(rows) if args.markdown else render_text(rows))
    judged = [row for row in rows if row.met is not None]
    print(f"\ntargets met: {sum(1 for row in judged if row.met)} of {len(judged)}"
          + (" (quick sizes: not representative)" if args.quick else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
