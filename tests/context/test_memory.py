"""MemoryStore: entries, substring edits, size bound, atomic writes, key scrubbing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from herald.context import memory as memory_module
from herald.context.memory import MemoryStore, parse_entries, render_entries

KEY = "sk-proj-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0"


@pytest.fixture
def mem(tmp_path: Path) -> MemoryStore:
    return MemoryStore(tmp_path / "memory", max_chars_per_file=200)


def test_default_location(herald_home: Path) -> None:
    store = MemoryStore()
    assert store.path("memory") == herald_home / "data" / "memory" / "MEMORY.md"
    assert store.path("user") == herald_home / "data" / "memory" / "USER.md"


def test_empty_store(mem: MemoryStore) -> None:
    assert mem.read("memory") == [] and mem.read("user") == []
    assert mem.system_prompt_block() == ""
    assert not mem.dir.exists()  # nothing written until something is added


def test_add_and_file_format(mem: MemoryStore) -> None:
    assert mem.add("memory", "  Tests run with pytest -q.  ") == ["Tests run with pytest -q."]
    mem.add("memory", "Branch is main.\nCI runs on push.")
    mem.add("user", "Prefers short answers.")
    assert mem.path("memory").read_text() == "Tests run with pytest -q.\n§\nBranch is main.\nCI runs on push.\n"
    assert mem.read("memory") == ["Tests run with pytest -q.", "Branch is main.\nCI runs on push."]
    assert mem.read("user") == ["Prefers short answers."]


def test_adding_a_duplicate_changes_nothing(mem: MemoryStore) -> None:
    mem.add("user", "Likes tea.")
    assert mem.add("user", "Likes tea.") == ["Likes tea."]


def test_replace_and_remove_by_substring(mem: MemoryStore) -> None:
    for text in ("uses vim", "uses zsh", "lives in Lyon"):
        mem.add("user", text)
    assert mem.replace("user", "Lyon", "lives in Paris") == ["uses vim", "uses zsh", "lives in Paris"]
    assert mem.remove("user", "zsh") == ["uses vim", "lives in Paris"]
    assert mem.read("user") == ["uses vim", "lives in Paris"]


def test_exact_entry_beats_ambiguous_substring(mem: MemoryStore) -> None:
    mem.add("memory", "use pytest")
    mem.add("memory", "use pytest -q in CI")
    assert mem.remove("memory", "use pytest") == ["use pytest -q in CI"]


def test_replace_into_an_existing_entry_merges(mem: MemoryStore) -> None:
    mem.add("memory", "a")
    mem.add("memory", "b")
    assert mem.replace("memory", "b", "a") == ["a"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.add("notes", "x"), "unknown memory target 'notes'"),
        (lambda m: m.read("USER"), "unknown memory target"),
        (lambda m: m.add("memory", "   "), "empty"),
        (lambda m: m.add("memory", "one\n§\ntwo"), "separator"),
        (lambda m: m.replace("memory", "", "x"), "substring .* is empty"),
        (lambda m: m.replace("memory", "nothing like it", "x"), "no entry in MEMORY.md contains 'nothing like it'"),
        (lambda m: m.remove("memory", "uses"), "'uses' matches 2 entries in MEMORY.md .*longer substring"),
        (lambda m: m.replace("memory", "vim", "\n"), "empty"),
    ],
)
def test_clear_errors(mem: MemoryStore, call, message: str) -> None:  # type: ignore[no-untyped-def]
    mem.add("memory", "uses vim")
    mem.add("memory", "uses zsh")
    before = mem.path("memory").read_text()
    with pytest.raises(ValueError, match=message):
        call(mem)
    assert mem.path("memory").read_text() == before


def test_size_bound_says_how_much_room_is_left(mem: MemoryStore) -> None:
    mem.add("memory", "x" * 150)  # file: 151 characters of 200
    with pytest.raises(ValueError, match=r"holds 151 of its 200 characters, so 49 are left; adding this 60-character entry needs 63"):
        mem.add("memory", "y" * 60)
    assert mem.add("memory", "y" * 46) == ["x" * 150, "y" * 46]  # exactly 200
    assert len(mem.path("memory").read_text()) == 200
    with pytest.raises(ValueError, match="0 are left"):
        mem.add("memory", "z")
    with pytest.raises(ValueError, match="this change needs"):
        mem.replace("memory", "yyy", "w" * 50)
    mem.replace("memory", "yyy", "short")  # shrinking is always fine
    assert mem.read("memory") == ["x" * 150, "short"]


def test_bound_is_per_file(mem: MemoryStore) -> None:
    mem.add("memory", "m" * 190)
    mem.add("user", "u" * 190)
    assert len(mem.read("user")[0]) == 190


def test_keys_are_scrubbed_before_saving(mem: MemoryStore) -> None:
    mem.add("user", f"their OpenAI key is {KEY}")
    mem.add("memory", "placeholder")
    mem.replace("memory", "placeholder", f"deploy with TOKEN={KEY}")
    for target in ("user", "memory"):
        assert KEY not in mem.path(target).read_text()
        assert KEY[-12:] not in mem.path(target).read_text()
    assert mem.read("user") == [f"their OpenAI key is sk-…{KEY[-4:]}"]


def test_hand_edited_file_is_tolerated(mem: MemoryStore) -> None:
    mem.dir.mkdir(parents=True)
    mem.path("memory").write_text("\n first \n  §  \n\n§\nsecond\r\n§\nfirst\n§")
    assert mem.read("memory") == ["first", "second"]
    mem.add("memory", "third")
    assert mem.path("memory").read_text() == "first\n§\nsecond\n§\nthird\n"


def test_parse_and_render_are_inverse() -> None:
    entries = ["a", "multi\nline", "c"]
    assert parse_entries(render_entries(entries)) == entries
    assert render_entries([]) == "" and parse_entries("") == []


def test_writes_are_atomic(mem: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    mem.add("memory", "original")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk died during rename")

    monkeypatch.setattr(memory_module.os, "replace", crash)
    with pytest.raises(OSError, match="disk died"):
        mem.add("memory", "new entry")
    assert mem.read("memory") == ["original"]
    assert sorted(p.name for p in mem.dir.iterdir()) == ["MEMORY.md"]  # no temp file left behind


@pytest.mark.skipif(os.name != "posix", reason="permissions")
def test_files_are_private(mem: MemoryStore) -> None:
    mem.add("user", "private fact")
    assert mem.path("user").stat().st_mode & 0o077 == 0


def test_system_prompt_block(mem: MemoryStore) -> None:
    mem.add("memory", "Project uses ruff.")
    block = mem.system_prompt_block()
    assert block.startswith("# Memory")
    assert "## Your notes (MEMORY.md, 19/200 characters)\n\n- Project uses ruff." in block
    assert "USER.md" not in block
    mem.add("user", "Name: Ada\nTimezone: CET")
    block = mem.system_prompt_block()
    assert "## About the user (USER.md, 24/200 characters)\n\n- Name: Ada\n  Timezone: CET" in block
    assert block.index("MEMORY.md") < block.index("USER.md")


def test_bad_limit() -> None:
    with pytest.raises(ValueError):
        MemoryStore(Path("."), max_chars_per_file=0)
