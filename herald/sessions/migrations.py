"""The session database's schema, as an ordered list of numbered migrations.

Rules, because databases written by older Herald versions live on users' disks:

* A migration, once released, is never edited or removed. Changes go in a new migration
  appended at the end with the next number.
* Each migration runs in its own transaction together with the row recording it in
  `schema_migrations`, so a crash leaves a migration either fully applied or not at all.
* A database whose recorded version is newer than the last migration known here is refused
  rather than written to: an older Herald cannot know what the newer schema requires.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from herald.errors import HeraldError


class SchemaTooNew(HeraldError):
    """The database was written by a newer Herald than this one."""


@dataclass(frozen=True)
class Migration:
    """One schema step: `version` numbers are 1, 2, 3, … with no gaps.

    `apply` receives the connection inside an open transaction and must not commit.
    """

    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def fts5_available(conn: sqlite3.Connection) -> bool:
    """True when this SQLite build has the FTS5 full-text extension."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.herald_fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.herald_fts5_probe")
    return True


def _run(*statements: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


# 1 ─ sessions and their messages. Times are Unix seconds (REAL): sortable, precise, zone-free.
_m1_base = _run(
    """
    CREATE TABLE sessions (
        id            TEXT PRIMARY KEY,
        created_at    REAL NOT NULL,
        updated_at    REAL NOT NULL,
        model         TEXT,
        base_url_host TEXT,
        title         TEXT,
        cwd           TEXT,
        message_count INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX sessions_updated ON sessions (updated_at)",
    "CREATE INDEX sessions_cwd_updated ON sessions (cwd, updated_at)",
    # content holds the searchable text; content_json the exact value when it was not a
    # plain string (None, or a list of content parts). tool_calls / extra are JSON.
    """
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,
        role          TEXT NOT NULL,
        content       TEXT,
        content_json  TEXT,
        tool_calls    TEXT,
        tool_call_id  TEXT,
        name          TEXT,
        reasoning     TEXT,
        extra         TEXT,
        created_at    REAL NOT NULL,
        UNIQUE (session_id, seq)
    )
    """,
)


def _m2_fts(conn: sqlite3.Connection) -> None:
    """Full-text index over message content, kept in sync by triggers.

    External-content table: the text lives once, in `messages`. Skipped on SQLite builds
    without FTS5; search then falls back to LIKE (it checks whether the table exists).
    """
    if not fts5_available(conn):
        return
    _run(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id')",
        """
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END
        """,
        """
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END
        """,
        """
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END
        """,
        # Index whatever an older database already holds.
        "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    )(conn)


MIGRATIONS: Sequence[Migration] = (
    Migration(1, "sessions and messages", _m1_base),
    Migration(2, "full-text index over message content", _m2_fts),
)


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at REAL NOT NULL
)
"""


def applied_versions(conn: sqlite3.Connection) -> list[int]:
    """Versions recorded in the database, ascending (empty for a new database)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Bring the database up to the last of `migrations`; returns the versions applied now.

    `conn` must be in autocommit mode (`isolation_level=None`): transactions are explicit.
    `BEGIN IMMEDIATE` takes the write lock before reading the ledger, so two processes
    opening the same new database cannot both apply a migration.

    Raises:
        SchemaTooNew: the database records a version this code does not know.
    """
    _check_sequence(migrations)
    known = migrations[-1].version if migrations else 0
    _refuse_newer(applied_versions(conn), known)
    done: list[int] = []
    # Cheap read first: an up-to-date database (the usual case) never takes the write lock.
    for migration in [m for m in migrations if m.version not in applied_versions(conn)]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(_LEDGER)
            applied = applied_versions(conn)  # again, under the lock: another process may have won
            _refuse_newer(applied, known)
            if migration.version not in applied:
                migration.apply(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
                done.append(migration.version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return done


def _refuse_newer(applied: list[int], known: int) -> None:
    if applied and applied[-1] > known:
        raise SchemaTooNew(
            f"the session database has schema version {applied[-1]}, newer than this "
            f"Herald knows ({known}); upgrade Herald or use another database"
        )


def _check_sequence(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"migration {migration.name!r} has version {migration.version}, expected {expected}")
