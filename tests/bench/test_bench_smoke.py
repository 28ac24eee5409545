"""The benchmark runs end to end at tiny sizes and prints a row for every section.

Nothing here is timed: the numbers depend on the machine. Targets (met or missed) are
the benchmark's output, not this test's business.
"""

from __future__ import annotations

import pytest

from bench import run
from bench.table import Row, render_markdown, render_text


def test_quick_run_prints_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--quick"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("machine: ") and "cores" in lines[0]
    assert lines[1].startswith("python ") and "openai " in lines[1] and "rich " in lines[1]
    assert lines[2].startswith("command: ") and "--quick" in lines[2]
    for name, _ in run.SECTIONS.values():
        assert any(line.startswith(name + " ") for line in lines), f"no row for {name}"
    assert "ERROR" not in out
    assert "targets met:" in out


def test_markdown_table_has_a_line_per_row() -> None:
    rows = [Row("1 s", "a | b", "1 ms", "2 ms", "0.5×", "≤ 1×", True), Row("2 s", "info", "x")]
    table = render_markdown(rows).splitlines()
    assert table[0].startswith("| section |") and table[1].startswith("|---")
    assert table[2] == "| 1 s | a \\| b | 1 ms | 2 ms | 0.5× | ≤ 1× | yes |"
    assert table[3].endswith("| — |")
    assert len(render_text(rows).splitlines()) == 4


def test_unknown_section_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--quick", "--only", "99"]) == 2
