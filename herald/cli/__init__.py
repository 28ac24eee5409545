"""The `herald` command-line program: a thin client of the library.

`main()` is the console-script entry point; `cli(args) -> int` runs the program and
returns its exit code (0 ok, 1 failed, 2 usage/config error, 130 interrupted).
The display layer lives in `herald.cli.display`.
"""

from __future__ import annotations


def cli(args: list[str] | None = None) -> int:
    """Run `herald` with `args`; return the exit code."""
    from herald.cli.app import (
        cli as run,  # imported lazily: `import herald.cli.display` stays light
    )

    return run(args)


def main() -> None:
    """Console-script entry point: `herald`."""
    from herald.cli.app import main as run

    run()


__all__ = ["cli", "main"]
