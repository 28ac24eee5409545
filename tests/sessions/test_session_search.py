"""Full-text search, with FTS5 and with the LIKE fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from herald.sessions import SessionStore, migrations
from herald.sessions.search import fts_query


def _fill(store: SessionStore) -> tuple[str, str]:
    a = store.create_session(model="m", base_url=None, cwd=None)
    b = store.create_session(model="m", base_url=None, cwd=None)
    store.append_message(a, {"role": "user", "content": "How do I configure the PostgreSQL connection pool?"})
    store.append_message(a, {"role": "assistant", "content": "Set pool_size in database.yml; the pool is per process."})
    store.append_message(b, {"role": "user", "content": "Write a haiku about 100% coverage"})
    store.append_message(b, {"role": "assistant", "content": None, "tool_calls": []})
    return a, b


@pytest.fixture(params=["fts5", "like"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionStore]:
    if request.param == "like":
        monkeypatch.setattr(migrations, "fts5_available", lambda conn: False)
    with SessionStore(tmp_path / "s.db") as store:
        assert store.full_text_search is (request.param == "fts5")
        yield store


def test_fts5_is_available_in_this_build(store: SessionStore) -> None:
    # Documents the environment: the fallback is tested separately via the fixture.
    assert store.full_text_search


def test_search_finds_messages_with_all_words(any_store: SessionStore) -> None:
    a, b = _fill(any_store)
    hits = any_store.search("pool")
    assert {h.session_id for h in hits} == {a}
    assert {h.seq for h in hits} == {1, 2}
    hit = next(h for h in hits if h.seq == 1)
    assert hit.role == "user"
    assert hit.title == "How do I configure the PostgreSQL connection pool?"
    assert "[pool]" in hit.snippet
    assert hit.created_at.tzinfo is not None
    assert [h.seq for h in any_store.search("pool process")] == [2]
    assert any_store.search("pool haiku") == []
    assert [h.session_id for h in any_store.search("HAIKU")] == [b]


def test_search_limit(any_store: SessionStore) -> None:
    sid = any_store.create_session(model="m", base_url=None, cwd=None)
    for i in range(10):
        any_store.append_message(sid, {"role": "user", "content": f"repeat word {i}"})
    assert len(any_store.search("repeat", limit=3)) == 3


def test_search_text_with_query_syntax_is_literal(any_store: SessionStore) -> None:
    _fill(any_store)
    for text in ['pool AND "', "NEAR(pool", "pool:", "(pool)", "-pool", "pool OR"]:
        any_store.search(text)  # must not raise
    assert len(any_store.search("100%")) == 1


def test_search_rejects_empty_text(any_store: SessionStore) -> None:
    with pytest.raises(ValueError, match="empty"):
        any_store.search("   ")


def test_fts_prefix_search(store: SessionStore) -> None:
    _fill(store)
    assert {h.seq for h in store.search("Postgre*")} == {1}
    assert store.search("Postgre") == []
    assert store.search("!!!") == []


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('a "b" NEAR c') == '"a" "b" "NEAR" "c"'
    assert fts_query("foo ba*") == '"foo" "ba"*'
    assert fts_query("?!") is None
