"""`SessionStore`: conversations in SQLite, written one message at a time as they happen.

Durability: WAL journal with `synchronous=NORMAL`. Each appended message is its own
transaction; once `append_message` returns, the message is in the WAL file on disk (the
OS has it), so killing the process at any later moment — SIGKILL, a crash, closing the
terminal — loses nothing. Only a power loss or OS crash can drop the last few commits,
which is what NORMAL trades against an fsync per message (FULL would fsync every append
and stall the agent loop on slow disks for no gain against the failures that matter here).
The database itself is never corrupted by either: WAL replays or discards whole transactions.

Secrets: every string of every message passes through `herald.llm.redact.redact_data`
before it reaches SQL, so key-shaped text never lands on disk. The store is never given
an API key; of the base URL only the host is kept (a URL can carry credentials).

Threads: one connection per store, guarded by a lock, so the agent loop and a UI thread
can share a store.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

from herald.llm.redact import redact, redact_data
from herald.paths import data_dir
from herald.sessions.codec import EncodedMessage, decode_message, encode_message
from herald.sessions.ids import new_session_id
from herald.sessions.migrations import apply_migrations
from herald.sessions.models import (
    AmbiguousSession,
    SearchHit,
    SessionInfo,
    SessionNotFound,
)
from herald.sessions.search import (
    ELLIPSIS,
    HIGHLIGHT,
    fts_query,
    like_pattern,
    plain_snippet,
)

log = logging.getLogger("herald.sessions")

DB_FILENAME = "sessions.db"
TITLE_MAX_CHARS = 80
_BUSY_TIMEOUT_MS = 5000
_SESSION_COLUMNS = "id, created_at, updated_at, model, base_url_host, title, cwd, message_count"
_MESSAGE_COLUMNS = "role, content, content_json, tool_calls, tool_call_id, name, reasoning, extra"


def default_db_path() -> Path:
    """`data_dir()/sessions.db`."""
    return data_dir() / DB_FILENAME


class SessionStore:
    """Stored conversations: create, append as you go, resume, list, search, delete.

    Args:
        path: the database file; `default_db_path()` when None. Created with its schema
            when missing; an older database is upgraded on open.

    Use as a context manager, or call `close()`.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        is_new = not self.path.exists()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per write.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000)
        try:
            if is_new and os.name == "posix":
                os.chmod(self.path, 0o600)  # conversations are private; -wal/-shm inherit this mode
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":  # e.g. a network file system without shared memory
                log.warning("session database %s: WAL unavailable, journal mode is %s", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            apply_migrations(conn)
            self._has_fts = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
            ).fetchone() is not None
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    # ── lifecycle ───────────────────────────────────────────────────────

    def close(self) -> None:
        """Close the database. Safe to call twice; any later call raises `RuntimeError`."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def full_text_search(self) -> bool:
        """True when search uses the FTS5 index; False when it falls back to LIKE."""
        return self._has_fts

    # ── writing ─────────────────────────────────────────────────────────

    def create_session(
        self, *, model: str | None, base_url: str | None, cwd: str | os.PathLike[str] | None, title: str | None = None
    ) -> str:
        """Record a new, empty session and return its id (see `herald.sessions.ids`).

        Only the host of `base_url` is stored. `title` defaults to the first user message.
        """
        now = time.time()
        session_id = new_session_id(now)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions (id, created_at, updated_at, model, base_url_host, title, cwd) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    now,
                    now,
                    model,
                    _host(base_url),
                    _title(redact(title)) if title else None,
                    _cwd(cwd),
                ),
            )
        return session_id

    def append_message(self, session_id: str, message: Mapping[str, Any]) -> int:
        """Store one OpenAI-format message at the end of a session, durably, and return its seq.

        Keys other than role/content/tool_calls/tool_call_id/name/reasoning are kept as
        they are (JSON) and come back from `load_messages`. Key-shaped strings anywhere
        in the message are masked first.

        Raises:
            SessionNotFound: no session has this id.
            ValueError: the message has no role, or holds a value JSON cannot store.
        """
        row = encode_message(redact_data(dict(message)))
        now = time.time()
        with self._write() as conn:
            session = conn.execute("SELECT title FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if session is None:
                raise SessionNotFound(f"no session {session_id!r}")
            (last,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE session_id = ?", (session_id,)).fetchone()
            seq = last + 1
            conn.execute(
                f"INSERT INTO messages (session_id, seq, created_at, {_MESSAGE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, seq, now, *_row_values(row)),
            )
            title = session[0]
            if title is None and row.role == "user" and row.content:
                title = _title(row.content)
            conn.execute(
                "UPDATE sessions SET updated_at = ?, message_count = message_count + 1, title = ? WHERE id = ?",
                (now, title, session_id),
            )
        return seq

    def set_title(self, session_id: str, title: str) -> None:
        """Rename a session.

        Raises:
            SessionNotFound: no session has this id.
        """
        with self._write() as conn:
            cursor = conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (_title(redact(title)), session_id))
            if cursor.rowcount == 0:
                raise SessionNotFound(f"no session {session_id!r}")

    def delete_session(self, session_id: str) -> None:
        """Delete a session and all its messages (and their search index entries).

        Raises:
            SessionNotFound: no session has this id.
        """
        with self._write() as conn:
            # Messages first, explicitly, rather than trusting ON DELETE CASCADE: foreign
            # keys are per-connection in SQLite and another tool may have the DB open without them.
            conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            if conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 0:
                raise SessionNotFound(f"no session {session_id!r}")

    # ── reading ─────────────────────────────────────────────────────────

    def load_messages(self, session_id: str) -> list[dict[str, Any]]:
        """The session's messages in order, each equal to the dict that was appended (keys masked).

        Raises:
            SessionNotFound: no session has this id.
        """
        with self._lock:
            conn = self._open()
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise SessionNotFound(f"no session {session_id!r}")
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
        fields = [c.strip() for c in _MESSAGE_COLUMNS.split(",")]
        return [decode_message(**dict(zip(fields, row))) for row in rows]

    def get_session(self, id_or_prefix: str) -> SessionInfo:
        """The session with this id, or the only one whose id starts with this prefix.

        Raises:
            SessionNotFound: nothing matches (or the prefix is empty).
            AmbiguousSession: several sessions start with the prefix; `.candidates` lists them.
        """
        key = id_or_prefix.strip()
        if not key:
            raise SessionNotFound("no session id given")
        with self._lock:
            conn = self._open()
            row = conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (key,)).fetchone()
            if row is not None:
                return _session_info(row)
            rows = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 6",
                (like_pattern(key)[1:],),  # drop the leading %: a prefix, not a substring
            ).fetchall()
        if not rows:
            raise SessionNotFound(f"no session with id or id prefix {key!r}")
        if len(rows) > 1:
            ids = [r[0] for r in rows[:5]]
            more = ", …" if len(rows) > 5 else ""
            raise AmbiguousSession(f"{key!r} matches several sessions: {', '.join(ids)}{more}; type more of the id", ids)
        return _session_info(rows[0])

    def list_sessions(self, limit: int = 20) -> list[SessionInfo]:
        """The most recently updated sessions first."""
        with self._lock:
            rows = self._open().execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_session_info(r) for r in rows]

    def latest_session(self, cwd: str | os.PathLike[str] | None = None) -> SessionInfo | None:
        """The most recently updated session (in `cwd` when given), or None when there is none."""
        query = f"SELECT {_SESSION_COLUMNS} FROM sessions"
        params: tuple[Any, ...] = ()
        if cwd is not None:
            query += " WHERE cwd = ?"
            params = (_cwd(cwd),)
        with self._lock:
            row = self._open().execute(query + " ORDER BY updated_at DESC, id DESC LIMIT 1", params).fetchone()
        return _session_info(row) if row else None

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Messages containing every word of `text`, best matches first (newest first without FTS5).

        Raises:
            ValueError: `text` is empty.
        """
        if not text.strip():
            raise ValueError("search text is empty")
        with self._lock:
            conn = self._open()
            if self._has_fts:
                return self._search_fts(conn, text, limit)
            return self._search_like(conn, text, limit)

    def _search_fts(self, conn: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
        query = fts_query(text)
        if query is None:
            return []
        open_, close = HIGHLIGHT
        rows = conn.execute(
            "SELECT m.session_id, s.title, m.seq, m.role, "
            "snippet(messages_fts, 0, ?, ?, ?, 16), m.created_at "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN sessions s ON s.id = m.session_id "
            "WHERE messages_fts MATCH ? ORDER BY rank, m.created_at DESC LIMIT ?",
            (open_, close, ELLIPSIS, query, limit),
        ).fetchall()
        return [SearchHit(r[0], r[1], r[2], r[3], " ".join(r[4].split()), _time(r[5])) for r in rows]

    def _search_like(self, conn: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
        words = text.split()
        where = " AND ".join(["m.content LIKE ? ESCAPE '\\'"] * len(words))
        rows = conn.execute(
            "SELECT m.session_id, s.title, m.seq, m.role, m.content, m.created_at "
            f"FROM messages m JOIN sessions s ON s.id = m.session_id WHERE {where} "
            "ORDER BY m.created_at DESC LIMIT ?",
            (*[like_pattern(w) for w in words], limit),
        ).fetchall()
        return [SearchHit(r[0], r[1], r[2], r[3], plain_snippet(r[4], words[0]), _time(r[5])) for r in rows]

    # ── internals ───────────────────────────────────────────────────────

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the session store is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the store's lock: committed on success, rolled back on error."""
        with self._lock:
            conn = self._open()
            # IMMEDIATE: take the write lock now, so a concurrent writer (another Herald
            # process) makes us wait up to the busy timeout instead of failing mid-transaction.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                # e.g. disk full: leave no transaction open for the next caller.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise


def _row_values(row: EncodedMessage) -> tuple[Any, ...]:
    return (row.role, row.content, row.content_json, row.tool_calls, row.tool_call_id, row.name, row.reasoning, row.extra)


def _host(base_url: str | None) -> str | None:
    """The host (and port) of a URL: never its user, password, path or query."""
    if not base_url:
        return None
    parts = urlsplit(base_url if "://" in base_url else f"//{base_url}")
    if not parts.hostname:
        return None
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


def _cwd(cwd: str | os.PathLike[str] | None) -> str | None:
    """A directory in one canonical spelling, so `latest_session(cwd)` finds what was stored."""
    return os.path.normpath(os.fspath(cwd)) if cwd is not None else None


def _title(text: str) -> str:
    """One line of at most `TITLE_MAX_CHARS` characters."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_MAX_CHARS:
        return flat
    return flat[: TITLE_MAX_CHARS - 1].rstrip() + "…"


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _session_info(row: tuple[Any, ...]) -> SessionInfo:
    return SessionInfo(
        id=row[0],
        created_at=_time(row[1]),
        updated_at=_time(row[2]),
        model=row[3],
        base_url_host=row[4],
        title=row[5],
        cwd=row[6],
        message_count=row[7],
    )
