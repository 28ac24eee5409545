"""read_file, write_file and patch on real files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from herald.tools import ToolRegistry


def call(registry: ToolRegistry, ctx: Any, name: str, **args: Any) -> Any:
    return registry.execute(name, args, ctx)


# --- read_file --------------------------------------------------------------


def test_read_numbers_lines(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\nbeta\ngamma\n")
    result = call(registry, ctx, "read_file", path="a.txt")
    assert result.ok
    assert result.content == "    1|alpha\n    2|beta\n    3|gamma"


def test_read_window_says_how_to_continue(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    result = call(registry, ctx, "read_file", path="n.txt", offset=12, limit=2)
    assert result.content == "   12|line 12\n   13|line 13\n[showing lines 12-13 of 100; use offset=14 to read more]"


def test_read_errors(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x\n")
    (tmp_path / "blob.bin").write_bytes(b"\x89PNG\x00\x01\x02")
    (tmp_path / "dir").mkdir()
    missing = call(registry, ctx, "read_file", path="notez.md")
    assert not missing.ok and missing.content == "Error: file not found: notez.md. Similar names in .: notes.md."
    binary = call(registry, ctx, "read_file", path="blob.bin")
    assert not binary.ok and "looks like a binary file (7 bytes)" in binary.content
    directory = call(registry, ctx, "read_file", path="dir")
    assert not directory.ok and "dir is a directory" in directory.content
    past = call(registry, ctx, "read_file", path="notes.md", offset=5)
    assert not past.ok and "has 1 lines; offset 5 is past the end" in past.content
    zero = call(registry, ctx, "read_file", path="notes.md", offset=0)
    assert not zero.ok and "at least 1" in zero.content


def test_read_empty_file(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_text("")
    assert call(registry, ctx, "read_file", path="e.txt").content == "(e.txt is empty)"


# --- write_file -------------------------------------------------------------


def test_write_creates_parent_dirs(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    result = call(registry, ctx, "write_file", path="deep/er/new.txt", content="one\ntwo\n")
    assert result.ok and result.content == "created deep/er/new.txt: 8 bytes, 2 lines"
    assert (tmp_path / "deep/er/new.txt").read_text() == "one\ntwo\n"
    again = call(registry, ctx, "write_file", path="deep/er/new.txt", content="x")
    assert again.content == "overwrote deep/er/new.txt: 1 bytes, 1 lines"


def test_write_onto_a_directory_is_an_error(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    result = call(registry, ctx, "write_file", path="d", content="x")
    assert not result.ok and "is a directory" in result.content


# --- patch ------------------------------------------------------------------


def test_patch_replaces_a_unique_match(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    result = call(registry, ctx, "patch", path="m.py", old_string="return 1", new_string="return 2")
    assert result.ok and result.content == "replaced 1 occurrence in m.py (at line 2)"
    assert (tmp_path / "m.py").read_text() == "def f():\n    return 2\n"


def test_patch_ambiguous_match_says_how_many_and_where(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = 1\ny = 2\nx = 1\n")
    result = call(registry, ctx, "patch", path="m.py", old_string="x = 1", new_string="x = 3")
    assert not result.ok
    assert "found 2 times in m.py (lines 1, 3)" in result.content
    assert "more surrounding context" in result.content and "replace_all=true" in result.content
    assert (tmp_path / "m.py").read_text() == "x = 1\ny = 2\nx = 1\n"
    done = call(registry, ctx, "patch", path="m.py", old_string="x = 1", new_string="x = 3", replace_all=True)
    assert done.ok and done.content == "replaced 2 occurrences in m.py (first at line 1)"
    assert (tmp_path / "m.py").read_text() == "x = 3\ny = 2\nx = 3\n"


def test_patch_missing_text_points_at_a_whitespace_near_miss(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("a\n\ndef f():\n        return 1\n")
    result = call(registry, ctx, "patch", path="m.py", old_string="def f():\n    return 1", new_string="pass")
    assert not result.ok
    assert "old_string not found in m.py" in result.content
    assert "differs only in whitespace starts at line 3" in result.content
    plain = call(registry, ctx, "patch", path="m.py", old_string="nothing like it", new_string="x")
    assert "Read the file again" in plain.content


def test_patch_errors(registry: ToolRegistry, ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("abc")
    assert "does not exist" in call(registry, ctx, "patch", path="no.txt", old_string="a", new_string="b").content
    assert "is empty" in call(registry, ctx, "patch", path="m.txt", old_string="", new_string="b").content
    assert "identical" in call(registry, ctx, "patch", path="m.txt", old_string="a", new_string="a").content
