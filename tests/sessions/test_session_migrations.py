"""Numbered migrations: applied once, recorded, upgrading old databases, refusing newer ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from herald.sessions import MIGRATIONS, SchemaTooNew, SessionStore
from herald.sessions.migrations import Migration, apply_migrations, applied_versions


def _ledger(db: Path) -> list[tuple[int, str, float]]:
    raw = sqlite3.connect(db)
    try:
        return raw.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").fetchall()
    finally:
        raw.close()


def test_versions_are_consecutive_from_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len({m.name for m in MIGRATIONS}) == len(MIGRATIONS)


def test_new_database_records_every_migration_once(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).close()
    first = _ledger(db)
    assert [(v, n) for v, n, _ in first] == [(m.version, m.name) for m in MIGRATIONS]
    SessionStore(db).close()
    assert _ledger(db) == first  # reopening applies nothing again


def test_apply_migrations_reports_what_it_applied(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        assert apply_migrations(conn, MIGRATIONS[:1]) == [1]
        assert apply_migrations(conn, MIGRATIONS[:1]) == []
        assert apply_migrations(conn) == [m.version for m in MIGRATIONS[1:]]
        assert applied_versions(conn) == [m.version for m in MIGRATIONS]
    finally:
        conn.close()


def test_old_database_is_upgraded_and_its_messages_indexed(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    # A database as the first release wrote it: schema version 1 only, with a conversation.
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        apply_migrations(conn, MIGRATIONS[:1])
        conn.execute(
            "INSERT INTO sessions (id, created_at, updated_at, model, title, cwd, message_count) "
            "VALUES ('20240101_000000_abcdef', 1.0, 2.0, 'old-model', 'legacy', '/old', 1)"
        )
        conn.execute(
            "INSERT INTO messages (session_id, seq, role, content, created_at) "
            "VALUES ('20240101_000000_abcdef', 1, 'user', 'an archaeological message', 1.5)"
        )
    finally:
        conn.close()

    with SessionStore(db) as store:
        assert [v for v, _, _ in _ledger(db)] == [m.version for m in MIGRATIONS]
        info = store.get_session("20240101")
        assert store.load_messages(info.id) == [{"role": "user", "content": "an archaeological message"}]
        assert [h.session_id for h in store.search("archaeological")] == [info.id]
        store.append_message(info.id, {"role": "assistant", "content": "fresh reply"})
        assert [h.seq for h in store.search("fresh")] == [2]


def test_failed_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    conn = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            apply_migrations(conn, [*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", broken)])
        assert applied_versions(conn) == [m.version for m in MIGRATIONS]
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
        assert not conn.in_transaction
    finally:
        conn.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).close()
    raw = sqlite3.connect(db)
    try:
        with raw:
            raw.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", (len(MIGRATIONS) + 1,))
    finally:
        raw.close()
    with pytest.raises(SchemaTooNew, match="newer"):
        SessionStore(db)


def test_misnumbered_migrations_are_a_programming_error(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        with pytest.raises(ValueError, match="expected 1"):
            apply_migrations(conn, [Migration(2, "skips one", lambda c: None)])
    finally:
        conn.close()
