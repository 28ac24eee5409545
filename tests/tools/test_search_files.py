"""search_files, with ripgrep and with the pure-Python fallback: same answers either way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from herald.tools.registry import ToolRegistry
from herald.tools.search_files import SearchFilesTool

HAS_RG = shutil.which("rg") is not None
REQUIRE_RG = os.environ.get("HERALD_REQUIRE_RG") == "1"
"""CI installs ripgrep and sets this: there the rg variant must run, not skip."""


@pytest.fixture(params=[pytest.param(True, id="rg"), pytest.param(False, id="python")])
def search(request: pytest.FixtureRequest, ctx: Any) -> Any:
    if request.param and not HAS_RG:
        if REQUIRE_RG:
            pytest.fail("HERALD_REQUIRE_RG=1 but rg is not on PATH (install ripgrep)")
        pytest.skip("rg not on PATH")
    registry = ToolRegistry([SearchFilesTool(use_rg=request.param)])

    def run(**args: Any) -> Any:
        return registry.execute("search_files", args, ctx)

    return run


@pytest.fixture(autouse=True)
def tree(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "core.py").write_text("import os\n\ndef handle_request(x):\n    return x\n")
    (tmp_path / "src" / "pkg" / "util.py").write_text("def helper():\n    pass  # handle_request is elsewhere\n")
    (tmp_path / "README.md").write_text("Call handle_request to start.\n")
    (tmp_path / "data.bin").write_bytes(b"handle_request\x00\x01")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("handle_request\n")


def test_content_search(search: Any) -> None:
    result = search(pattern=r"def handle_\w+")
    assert result.ok
    assert result.content == "src/pkg/core.py:3:def handle_request(x):"


def test_content_search_all_files_sorted_skips_binary_and_hidden(search: Any) -> None:
    lines = search(pattern="handle_request").content.splitlines()
    assert lines == [
        "README.md:1:Call handle_request to start.",
        "src/pkg/core.py:3:def handle_request(x):",
        "src/pkg/util.py:2:    pass  # handle_request is elsewhere",
    ]


def test_content_search_with_glob_and_path(search: Any) -> None:
    assert search(pattern="handle_request", glob="*.md").content == "README.md:1:Call handle_request to start."
    assert search(pattern="def", path="src/pkg/util.py").content == "src/pkg/util.py:1:def helper():"


def test_file_name_search(search: Any) -> None:
    assert search(pattern="*.py", target="files").content == "src/pkg/core.py\nsrc/pkg/util.py"
    assert search(pattern="UTIL", target="files").content == "src/pkg/util.py"


def test_results_are_capped_with_a_note(search: Any, tmp_path: Path) -> None:
    (tmp_path / "many.txt").write_text("hit\n" * 30)
    result = search(pattern="^hit$", limit=5)
    lines = result.content.splitlines()
    assert len(lines) == 6
    assert lines[-1].endswith("not shown; narrow the pattern, path or glob]")


def test_no_matches_and_errors(search: Any) -> None:
    assert search(pattern="zzz_nothing").content == "No matches found for 'zzz_nothing' (searched .)."
    bad = search(pattern="(unclosed")
    assert not bad.ok and "invalid regex" in bad.content
    missing = search(pattern="x", path="nowhere")
    assert not missing.ok and "path not found: nowhere" in missing.content


def test_env_var_forces_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_NO_RG", "1")
    assert SearchFilesTool()._rg() is None
    monkeypatch.delenv("HERALD_NO_RG")
    assert SearchFilesTool()._rg() == shutil.which("rg")
    assert SearchFilesTool(use_rg=False)._rg() is None
