"""Stored conversations: a SQLite database written one message at a time.

    from herald.sessions import SessionStore

    with SessionStore() as store:
        sid = store.create_session(model="gpt-4o", base_url="https://api.openai.com/v1", cwd=os.getcwd())
        store.append_message(sid, {"role": "user", "content": "hello"})
        messages = store.load_messages(sid)
"""

from herald.sessions.migrations import MIGRATIONS, Migration, SchemaTooNew
from herald.sessions.models import (
    AmbiguousSession,
    SearchHit,
    SessionInfo,
    SessionNotFound,
)
from herald.sessions.store import SessionStore, default_db_path

__all__ = [
    "MIGRATIONS",
    "AmbiguousSession",
    "Migration",
    "SchemaTooNew",
    "SearchHit",
    "SessionInfo",
    "SessionNotFound",
    "SessionStore",
    "default_db_path",
]
