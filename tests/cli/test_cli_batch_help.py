"""`herald batch --help` shows how to run a batch; a bare `herald batch` prints its usage."""

from __future__ import annotations

from .proc import run_pipe


def test_batch_help_shows_the_run_options() -> None:
    result = run_pipe("batch", "--help")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert out.startswith("Usage: herald batch INPUT -o OUTPUT [OPTIONS]\n")
    for option in ("--output", "--concurrency", "--max-attempts", "--toolsets", "--system", "--time-limit",
                   "--workdir", "--ray", "--json", "--model", "--base-url"):
        assert option in out, option
    assert "herald batch export OUTPUT" in out and "export " in out.split("Commands:")[1]


def test_a_bare_batch_prints_the_usage_then_one_error_line() -> None:
    result = run_pipe("batch")
    err = result.stderr.decode().splitlines()
    assert result.returncode == 2 and result.stdout == b""
    assert err[0] == "Usage: herald batch INPUT -o OUTPUT [OPTIONS]"
    assert err[1].strip().startswith("herald batch export OUTPUT")
    assert err[-1] == "herald: error: missing INPUT and -o OUTPUT (see: herald batch --help)"
    assert sum(line.startswith("herald: error:") for line in err) == 1
    assert all(len(line) < 100 for line in err)  # nothing squeezed into one long line
