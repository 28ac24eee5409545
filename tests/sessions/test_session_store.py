"""SessionStore: round trips, listing, lookup by prefix, deletion, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from herald.errors import UserError
from herald.sessions import AmbiguousSession, SessionNotFound, SessionStore, default_db_path
from herald.sessions import store as store_module

MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are Herald."},
    {"role": "user", "content": "Find the bug in parser.py — ünïcødé too"},
    {
        "role": "assistant",
        "content": None,
        "reasoning": "Look at the file first.",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "parser.py"}'}}],
        "reasoning_details": [{"type": "reasoning.encrypted", "data": "opaque=="}],
    },
    {"role": "tool", "tool_call_id": "call_1", "name": "read_file", "content": "def parse(): ..."},
    {"role": "user", "content": [{"type": "text", "text": "and this image"}, {"type": "image_url", "image_url": {"url": "data:x"}}]},
    {"role": "assistant", "content": "", "name": None, "codex_reasoning_items": [{"id": "rs_1", "encrypted_content": "e"}], "n": 1.5},
    {"role": "assistant"},  # no content key at all
    {"role": "assistant", "content": "done", "tool_calls": None, "finish_reason": "stop"},
]


def test_messages_round_trip_exactly(store: SessionStore) -> None:
    sid = store.create_session(model="gpt-4o", base_url="https://api.openai.com/v1", cwd="/work")
    seqs = [store.append_message(sid, m) for m in MESSAGES]
    assert seqs == list(range(1, len(MESSAGES) + 1))
    assert store.load_messages(sid) == MESSAGES


def test_round_trip_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SessionStore(path) as first:
        sid = first.create_session(model="m", base_url=None, cwd=None)
        for m in MESSAGES:
            first.append_message(sid, m)
    with SessionStore(path) as second:
        assert second.load_messages(sid) == MESSAGES


def test_append_does_not_mutate_the_callers_dict(store: SessionStore) -> None:
    sid = store.create_session(model="m", base_url=None, cwd=None)
    message = {"role": "user", "content": "key sk-abcdefghijklmnopqrstuvwx", "meta": {"k": "v"}}
    store.append_message(sid, message)
    assert message == {"role": "user", "content": "key sk-abcdefghijklmnopqrstuvwx", "meta": {"k": "v"}}


def test_session_metadata(store: SessionStore) -> None:
    sid = store.create_session(model="claude-x", base_url="https://user:secret@proxy.example.com:8443/v1?token=abc", cwd=Path("/work/proj"))
    info = store.get_session(sid)
    assert (info.model, info.base_url_host, info.cwd, info.title, info.message_count) == (
        "claude-x", "proxy.example.com:8443", "/work/proj", None, 0,
    )
    store.append_message(sid, {"role": "system", "content": "sys"})
    store.append_message(sid, {"role": "user", "content": "  Please   refactor\nthe whole " + "very " * 40 + "long module"})
    store.append_message(sid, {"role": "user", "content": "second question"})
    info = store.get_session(sid)
    assert info.message_count == 3
    assert info.title is not None and info.title.startswith("Please refactor the whole very")
    assert len(info.title) == store_module.TITLE_MAX_CHARS and info.title.endswith("…")
    assert info.updated_at >= info.created_at


def test_explicit_title_is_kept_and_can_be_changed(store: SessionStore) -> None:
    sid = store.create_session(model="m", base_url=None, cwd=None, title="My task")
    store.append_message(sid, {"role": "user", "content": "hello"})
    assert store.get_session(sid).title == "My task"
    store.set_title(sid, "Renamed")
    assert store.get_session(sid).title == "Renamed"
    with pytest.raises(SessionNotFound):
        store.set_title("nope", "x")


def test_title_from_multimodal_user_message(store: SessionStore) -> None:
    sid = store.create_session(model="m", base_url=None, cwd=None)
    store.append_message(sid, MESSAGES[4])
    assert store.get_session(sid).title == "and this image"


def test_append_to_unknown_session_or_without_role(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        store.append_message("missing", {"role": "user", "content": "x"})
    sid = store.create_session(model="m", base_url=None, cwd=None)
    with pytest.raises(ValueError, match="role"):
        store.append_message(sid, {"content": "no role"})
    with pytest.raises(ValueError, match="JSON"):
        store.append_message(sid, {"role": "user", "content": "x", "obj": object()})
    assert store.load_messages(sid) == []
    assert store.get_session(sid).message_count == 0


def test_list_and_latest(store: SessionStore) -> None:
    assert store.list_sessions() == []
    assert store.latest_session() is None
    a = store.create_session(model="m", base_url=None, cwd="/a")
    b = store.create_session(model="m", base_url=None, cwd="/b")
    c = store.create_session(model="m", base_url=None, cwd="/a")
    store.append_message(a, {"role": "user", "content": "touch a last"})
    assert [s.id for s in store.list_sessions()] == [a, c, b]
    assert [s.id for s in store.list_sessions(limit=2)] == [a, c]
    assert store.latest_session().id == a  # type: ignore[union-attr]
    assert store.latest_session(cwd="/b").id == b  # type: ignore[union-attr]
    assert store.latest_session(cwd=Path("/a")).id == a  # type: ignore[union-attr]
    assert store.latest_session(cwd="/nowhere") is None


def test_session_ids_sort_by_creation(store: SessionStore) -> None:
    ids = [store.create_session(model="m", base_url=None, cwd=None) for _ in range(3)]
    prefixes = [i[:15] for i in ids]  # YYYYMMDD_HHMMSS
    assert prefixes == sorted(prefixes)


def test_get_session_by_prefix(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = iter(["20250101_000000_aaaaaa", "20250101_000000_aaabbb", "20250202_000000_cccccc", "2025_x_1"])
    monkeypatch.setattr(store_module, "new_session_id", lambda now=None: next(ids))
    for _ in range(4):
        store.create_session(model="m", base_url=None, cwd=None)
    assert store.get_session("20250202").id == "20250202_000000_cccccc"
    assert store.get_session("20250101_000000_aaab").id == "20250101_000000_aaabbb"
    assert store.get_session(" 20250101_000000_aaaaaa ").id == "20250101_000000_aaaaaa"
    with pytest.raises(AmbiguousSession) as ambiguous:
        store.get_session("20250101_000000_aaa")
    assert sorted(ambiguous.value.candidates) == ["20250101_000000_aaaaaa", "20250101_000000_aaabbb"]
    assert "20250101_000000_aaaaaa" in str(ambiguous.value)
    assert isinstance(ambiguous.value, LookupError) and isinstance(ambiguous.value, UserError)
    with pytest.raises(SessionNotFound, match="1999"):
        store.get_session("1999")
    with pytest.raises(SessionNotFound):
        store.get_session("")
    # LIKE wildcards in the prefix are literal: "2025_" must not match "20250…".
    assert store.get_session("2025_").id == "2025_x_1"
    with pytest.raises(SessionNotFound):
        store.get_session("%")


def test_load_unknown_session(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        store.load_messages("nope")


def test_delete_session(store: SessionStore) -> None:
    keep = store.create_session(model="m", base_url=None, cwd=None)
    drop = store.create_session(model="m", base_url=None, cwd=None)
    store.append_message(keep, {"role": "user", "content": "zebra keep"})
    store.append_message(drop, {"role": "user", "content": "zebra drop"})
    store.delete_session(drop)
    assert [s.id for s in store.list_sessions()] == [keep]
    with pytest.raises(SessionNotFound):
        store.load_messages(drop)
    assert [h.session_id for h in store.search("zebra")] == [keep]
    with pytest.raises(SessionNotFound):
        store.delete_session(drop)
    with sqlite3.connect(store.path) as raw:
        count = raw.execute("SELECT COUNT(*) FROM messages WHERE session_id = ?", (drop,)).fetchone()[0]
    raw.close()
    assert count == 0


def test_resume_continues_the_sequence(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SessionStore(path) as store:
        sid = store.create_session(model="m", base_url=None, cwd="/p")
        store.append_message(sid, {"role": "user", "content": "one"})
    with SessionStore(path) as store:
        resumed = store.latest_session(cwd="/p")
        assert resumed is not None and resumed.id == sid
        history = store.load_messages(resumed.id)
        assert store.append_message(sid, {"role": "assistant", "content": "two"}) == 2
        assert store.load_messages(sid) == history + [{"role": "assistant", "content": "two"}]


def test_default_path_is_in_data_dir(herald_home: Path) -> None:
    with SessionStore() as store:
        assert store.path == default_db_path() == herald_home / "data" / "sessions.db"
        assert store.path.exists()


def test_wal_mode_and_private_file(store: SessionStore) -> None:
    with sqlite3.connect(store.path) as raw:
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    raw.close()
    assert mode == "wal"
    assert store.path.stat().st_mode & 0o077 == 0


def test_closed_store(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    store.close()
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.list_sessions()
    with pytest.raises(RuntimeError, match="closed"):
        store.create_session(model="m", base_url=None, cwd=None)


def test_threads_share_a_store(store: SessionStore) -> None:
    sid = store.create_session(model="m", base_url=None, cwd=None)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                store.append_message(sid, {"role": "user", "content": f"t{n}-{i}"})
                store.list_sessions()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    contents = [m["content"] for m in store.load_messages(sid)]
    assert sorted(contents) == sorted(f"t{n}-{i}" for n in range(4) for i in range(25))
    assert store.get_session(sid).message_count == 100


def test_two_stores_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SessionStore(path) as a, SessionStore(path) as b:
        sid = a.create_session(model="m", base_url=None, cwd=None)
        a.append_message(sid, {"role": "user", "content": "from a"})
        b.append_message(sid, {"role": "assistant", "content": "from b"})
        assert a.load_messages(sid) == b.load_messages(sid) == [
            {"role": "user", "content": "from a"},
            {"role": "assistant", "content": "from b"},
        ]


def test_cwd_spellings_match(store: SessionStore) -> None:
    sid = store.create_session(model="m", base_url=None, cwd="/work/proj/")
    assert store.get_session(sid).cwd == "/work/proj"
    assert store.latest_session(cwd=Path("/work/proj")).id == sid  # type: ignore[union-attr]
    assert store.latest_session(cwd="/work/./proj").id == sid  # type: ignore[union-attr]
