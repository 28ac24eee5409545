"""MCP results and tools in Herald's shapes, on the `mcp` package's own types."""

from __future__ import annotations

import base64

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from herald.mcp.convert import function_schema, result_text, tool_name
from herald.tools.validate import ArgumentError, parse_arguments

PNG = base64.b64encode(b"\x89PNG" + b"\0" * 2044).decode()  # 2,048 bytes


def test_text_blocks_are_joined():
    result = CallToolResult(content=[TextContent(text="one"), TextContent(text="two")])
    assert result_text(result) == "one\ntwo"


def test_binary_content_becomes_a_placeholder_naming_type_and_size():
    result = CallToolResult(content=[
        TextContent(text="look:"),
        ImageContent(data=PNG, mime_type="image/png"),
        AudioContent(data=base64.b64encode(b"x" * 10).decode(), mime_type="audio/wav"),
        EmbeddedResource(resource=BlobResourceContents(uri="file:///a.bin", blob=base64.b64encode(b"y" * 3_000_000).decode(), mime_type="application/zip")),
    ])
    assert result_text(result).splitlines() == [
        "look:",
        "[image: image/png, 2.0 KB]",
        "[audio: audio/wav, 10 bytes]",
        "[resource file:///a.bin: application/zip, 2.9 MB]",
    ]
    assert PNG[:40] not in result_text(result)


def test_resources_and_links():
    result = CallToolResult(content=[
        EmbeddedResource(resource=TextResourceContents(uri="file:///n.txt", text="note text")),
        ResourceLink(uri="file:///big.csv", name="big", mime_type="text/csv"),
    ])
    assert result_text(result) == "note text\n[resource link: file:///big.csv, text/csv]"


def test_structured_content_is_json_when_no_text_carries_it():
    only = CallToolResult(content=[], structured_content={"files": 3, "names": ["ä"]})
    assert result_text(only) == '{"files": 3, "names": ["ä"]}'
    mirrored = CallToolResult(content=[TextContent(text='{"files": 3}')], structured_content={"files": 3})
    assert result_text(mirrored) == '{"files": 3}'  # said once, not twice
    assert result_text(CallToolResult(content=[])) == "(no output)"


def test_tool_names_are_prefixed_safe_and_at_most_64_characters():
    assert tool_name("fs", "read_file") == "mcp__fs__read_file"
    assert tool_name("fs", "files.read/all") == "mcp__fs__files_read_all"
    long_a, long_b = tool_name("server", "x" * 80 + "a"), tool_name("server", "x" * 80 + "b")
    assert len(long_a) == 64 and long_a.startswith("mcp__server__xxx") and long_a != long_b


def test_function_schema_passes_the_servers_json_schema_through():
    schema = {"type": "object", "properties": {"q": {"type": "string", "minLength": 1}}, "required": ["q"], "$defs": {}}
    built = function_schema("mcp__s__find", "Find things.", schema)
    assert built == {"type": "function", "function": {"name": "mcp__s__find", "description": "Find things.", "parameters": schema}}
    assert function_schema("t", None, {"type": "object"})["function"]["parameters"] == {"type": "object", "properties": {}}
    odd = function_schema("t", None, {"type": "object", "properties": ["x"], "required": "x"})["function"]["parameters"]
    assert odd == {"type": "object", "properties": {}}
    assert parse_arguments('{"x": 1}', odd) == {"x": 1}


def test_union_types_in_server_schemas_are_checked_not_crashed_on():
    parameters = {"type": "object", "properties": {"v": {"type": ["string", "null"]}, "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}, "b": True}}
    assert parse_arguments('{"v": "x", "n": 3, "b": 1}', parameters) == {"v": "x", "n": 3, "b": 1}
    try:
        parse_arguments('{"v": 5}', parameters)
    except ArgumentError as error:
        assert "field 'v' must be a string or null" in str(error)
    else:
        raise AssertionError("a number is not a string or null")
