"""API keys never reach the session database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from herald.sessions import SessionStore

KEY = "sk-proj-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0"
ANTHROPIC_KEY = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"


def _all_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_key_shaped_strings_are_scrubbed_everywhere(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SessionStore(db) as store:
        sid = store.create_session(model="m", base_url=f"https://api.example.com/v1?key={KEY}", cwd="/w", title=f"set {KEY}")
        store.append_message(sid, {"role": "user", "content": f"my key is {KEY}, use it"})
        store.append_message(
            sid,
            {
                "role": "assistant",
                "content": None,
                "reasoning": f"the user pasted {ANTHROPIC_KEY}",
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "sh", "arguments": f'{{"cmd": "export K={KEY}"}}'}}],
                "provider_extra": {"echo": [KEY]},
            },
        )
        store.append_message(sid, {"role": "tool", "tool_call_id": "c", "name": "sh", "content": f"OPENAI_API_KEY={KEY}"})
        store.append_message(sid, {"role": "user", "content": [{"type": "text", "text": KEY}]})

        loaded = store.load_messages(sid)
        assert KEY not in repr(loaded) and ANTHROPIC_KEY not in repr(loaded)
        assert loaded[0]["content"] == f"my key is sk-…{KEY[-4:]}, use it"
        assert store.get_session(sid).base_url_host == "api.example.com"
        assert KEY not in (store.get_session(sid).title or "")
        assert store.search("key") != []

    with sqlite3.connect(db) as raw:
        dump = "\n".join(raw.iterdump())
    raw.close()
    assert KEY not in dump and ANTHROPIC_KEY not in dump
    # Not even in pages SQLite has freed or in the WAL: check the raw files.
    for secret in (KEY, ANTHROPIC_KEY):
        assert secret.encode() not in _all_bytes(db)
        assert secret[-12:].encode() not in _all_bytes(db)


def test_store_api_takes_no_key() -> None:
    import inspect

    for name in ("__init__", "create_session", "append_message"):
        params = inspect.signature(getattr(SessionStore, name)).parameters
        assert not any("key" in p for p in params), name
