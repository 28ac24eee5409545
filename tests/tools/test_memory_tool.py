"""The memory tool delegates to the store and turns its ValueErrors into clear errors."""

from __future__ import annotations

from typing import Any

from herald.tools import ToolRegistry

def test_memory_is_offered_only_when_enabled() -> None:
    assert "memory" not in ToolRegistry.from_toolsets(environ={}).names()
    assert "memory" in ToolRegistry.from_toolsets(memory_enabled=True, environ={}).names()


def test_add_replace_remove_read(registry: ToolRegistry, make_ctx: Any, memory_store: Any) -> None:
    store = memory_store
    ctx = make_ctx(memory=store)
    assert registry.execute("memory", {"action": "add", "text": "prefers tabs", "target": "user"}, ctx).content == "added to user profile"
    assert registry.execute("memory", {"action": "add", "text": "repo uses uv"}, ctx).ok
    assert store.entries == {"memory": ["repo uses uv"], "user": ["prefers tabs"]}
    assert registry.execute("memory", {"action": "replace", "target": "user", "old_text": "tabs", "text": "spaces"}, ctx).ok
    assert registry.execute("memory", {"action": "read", "target": "user"}, ctx).content == "spaces"
    assert registry.execute("memory", {"action": "remove", "old_text": "uv"}, ctx).content == "removed from memory"
    assert registry.execute("memory", {"action": "read"}, ctx).content == "(memory is empty)"


def test_store_errors_and_missing_fields(registry: ToolRegistry, make_ctx: Any, memory_store: Any) -> None:
    ctx = make_ctx(memory=memory_store)
    result = registry.execute("memory", {"action": "remove", "old_text": "ghost"}, ctx)
    assert not result.ok and result.content == "Error: 0 entries match 'ghost'; need exactly one"
    missing = registry.execute("memory", {"action": "replace", "old_text": "a"}, ctx)
    assert not missing.ok and missing.content == "Error: action 'replace' needs 'text'."
    bad_target = registry.execute("memory", {"action": "read", "target": "team"}, ctx)
    assert "must be one of \"memory\", \"user\"" in bad_target.content


def test_no_store_in_context(registry: ToolRegistry, ctx: Any) -> None:
    result = registry.execute("memory", {"action": "read"}, ctx)
    assert not result.ok and "memory is disabled" in result.content
