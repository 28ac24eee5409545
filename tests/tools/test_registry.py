"""The registry: toolsets, schemas, and model mistakes turned into readable results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.errors import ConfigError
from herald.tools import ToolContext, ToolRegistry, ToolResult
from herald.tools.base import function_schema
from herald.tools.capping import cap_text


def test_all_toolsets_offer_every_tool_but_unconfigured_ones() -> None:
    registry = ToolRegistry.from_toolsets(environ={})
    assert registry.names() == ["terminal", "read_file", "write_file", "patch", "search_files", "web_extract"]
    assert set(registry.unavailable) == {"web_search", "memory"}
    assert "HERALD_WEB_SEARCH" in registry.web_search_message


def test_schemas_are_openai_function_schemas(registry: ToolRegistry) -> None:
    for schema in registry.schemas():
        assert schema["type"] == "function"
        fn = schema["function"]
        assert fn["name"] in registry.names()
        assert fn["description"]
        assert fn["parameters"]["type"] == "object"
        assert set(fn["parameters"]["required"]) <= set(fn["parameters"]["properties"])
    json.dumps(registry.schemas())  # must be serialisable as is


def test_enabled_and_disabled_toolsets() -> None:
    assert ToolRegistry.from_toolsets(["file"], environ={}).names() == ["read_file", "write_file", "patch", "search_files"]
    names = ToolRegistry.from_toolsets(disabled=["terminal", "web"], memory_enabled=True, environ={}).names()
    assert names == ["read_file", "write_file", "patch", "search_files", "memory"]


def test_unknown_toolset_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown toolset in enabled: nope .*known: terminal, file, web, memory"):
        ToolRegistry.from_toolsets(["nope"])


def test_read_only_flags(registry: ToolRegistry) -> None:
    assert registry.is_read_only("read_file")
    assert registry.is_read_only("search_files")
    assert registry.is_read_only("web_extract")
    assert not registry.is_read_only("terminal")
    assert not registry.is_read_only("write_file")
    assert not registry.is_read_only("patch")
    assert not registry.is_read_only("no_such_tool")
    assert registry.is_read_only("memory", '{"action": "read"}')
    assert registry.is_read_only("memory", {"action": "read"})
    assert not registry.is_read_only("memory", '{"action": "add", "text": "x"}')
    assert not registry.is_read_only("memory", "{bad json")
    assert not registry.is_read_only("memory")


def test_unknown_tool_lists_available_tools(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = registry.execute("run_shell", "{}", ctx)
    assert not result.ok
    assert "unknown tool 'run_shell'" in result.content
    assert "terminal, read_file" in result.content


def test_invalid_json_says_what_was_expected(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = registry.execute("read_file", '{"path": "a.txt"', ctx)
    assert not result.ok
    assert "not valid JSON" in result.content
    assert '{"path": string, "offset"?: integer, "limit"?: integer}' in result.content


def test_arguments_must_be_an_object(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = registry.execute("read_file", '["a.txt"]', ctx)
    assert "must be a JSON object, got array" in result.content


def test_missing_required_field(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = registry.execute("write_file", '{"path": "a.txt"}', ctx)
    assert not result.ok
    assert "missing required field 'content' (a string)" in result.content


def test_wrong_type_and_enum(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = registry.execute("read_file", '{"path": "a", "offset": "ten"}', ctx)
    assert "field 'offset' must be an integer, got string \"ten\"" in result.content
    result = registry.execute("search_files", '{"pattern": "x", "target": "dirs"}', ctx)
    assert "field 'target' must be one of \"content\", \"files\"" in result.content


def test_integral_float_and_dict_arguments_are_accepted(registry: ToolRegistry, ctx: ToolContext) -> None:
    (ctx.cwd / "a.txt").write_text("one\ntwo\n")
    assert registry.execute("read_file", '{"path": "a.txt", "offset": 2.0}', ctx).content == "    2|two"
    assert registry.execute("read_file", {"path": "a.txt"}, ctx).ok


class _Boom:
    name = "boom"
    toolset = "test"
    read_only = True
    schema = function_schema("boom", "Always fails.", {}, [])

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise RuntimeError("disk on fire")

    def preview(self, args: Any) -> str:
        return ""


class _Loud(_Boom):
    name = "loud"
    schema = function_schema("loud", "Prints a lot.", {}, [])

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult("HEAD" + "x" * 10_000 + "TAIL")


def test_a_raising_tool_becomes_an_error_result(ctx: ToolContext) -> None:
    result = ToolRegistry([_Boom()]).execute("boom", "", ctx)
    assert result == ToolResult("Error: boom failed: RuntimeError: disk on fire", ok=False)
    assert "Traceback" not in result.content


def test_output_is_capped_keeping_head_and_tail(make_ctx: Any) -> None:
    result = ToolRegistry([_Loud()]).execute("loud", "{}", make_ctx(output_cap=1000))
    assert len(result.content) <= 1000
    assert result.content.startswith("HEAD") and result.content.endswith("TAIL")
    assert "output truncated:" in result.content and "of 10,008 characters omitted" in result.content


def test_cap_text_leaves_short_text_alone() -> None:
    assert cap_text("short", 100) == "short"


def test_interrupted_before_start_skips(registry: ToolRegistry, make_ctx: Any) -> None:
    result = registry.execute("terminal", '{"command": "echo hi"}', make_ctx(is_interrupted=lambda: True))
    assert not result.ok and "interrupted" in result.content


def test_preview_never_raises(registry: ToolRegistry) -> None:
    assert registry.preview("terminal", '{"command": "ls   -la\\n  /tmp"}') == "ls -la /tmp"
    assert registry.preview("terminal", "{oops") == "{oops"
    assert registry.preview("nope", None) == ""


def test_duplicate_tool_names_rejected() -> None:
    with pytest.raises(ValueError, match="two tools"):
        ToolRegistry([_Boom(), _Boom()])
