"""build_system_prompt: default prompt, user prompt, context files, memory — in that order."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from herald.context import MemoryStore, build_system_prompt

DAY = date(2025, 6, 12)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "AGENTS.md").write_text("Run make test before committing.")
    return root


def test_default_only(tmp_path: Path) -> None:
    prompt = build_system_prompt(None, cwd=tmp_path, skip_context_files=False, memory=None, today=DAY)
    assert prompt.startswith("You are Herald")
    assert "tools" in prompt
    assert f"Working directory: {tmp_path}" in prompt
    assert "Today's date: 2025-06-12 (Thursday)" in prompt
    assert "# Project context" not in prompt and "# Memory" not in prompt


def test_all_parts_in_order(tmp_path: Path) -> None:
    root = _project(tmp_path)
    memory = MemoryStore(tmp_path / "mem")
    memory.add("user", "Prefers British spelling.")
    prompt = build_system_prompt("  Answer in haiku.  ", cwd=root, skip_context_files=False, memory=memory, today=DAY)
    order = [prompt.index(s) for s in ("You are Herald", "Answer in haiku.", "# Project context", "Run make test", "# Memory", "British")]
    assert order == sorted(order)
    assert f"## {root.resolve() / 'AGENTS.md'}" in prompt


def test_skip_context_files_and_empty_memory(tmp_path: Path) -> None:
    root = _project(tmp_path)
    prompt = build_system_prompt("", cwd=root, skip_context_files=True, memory=MemoryStore(tmp_path / "mem"), today=DAY)
    assert "make test" not in prompt and "# Memory" not in prompt
    assert not prompt.endswith("\n")


def test_today_defaults_to_the_local_date(tmp_path: Path) -> None:
    prompt = build_system_prompt(None, cwd=str(tmp_path), skip_context_files=True, memory=None)
    assert date.today().isoformat() in prompt
