"""Herald's benchmarks: streaming overhead, first-delta latency, interrupts, bad providers,
renderer scaling and memory, each measured against a baseline in the same run.

Run `python -m bench` (or `python bench/run.py`) from the repository root; `--quick` for a
seconds-long smoke run, `--markdown` for a table (docs/performance.md).
"""
