"""From MCP's shapes to Herald's: tool names and schemas for the model, results as text.

Pure functions over the `mcp` package's pydantic objects (read by attribute, so this module
imports nothing from `mcp`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any, Mapping

MAX_TOOL_NAME = 64  # the function-name limit of OpenAI and Anthropic alike
PREFIX = "mcp"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """The name the model calls: `mcp__<server>__<tool>`, in the characters every provider
    accepts; a name past 64 characters is shortened and given a hash of the original."""
    name = f"{PREFIX}__{server}__{_UNSAFE.sub('_', tool)}"
    if len(name) <= MAX_TOOL_NAME:
        return name
    digest = hashlib.sha1(tool.encode()).hexdigest()[:8]
    return f"{name[: MAX_TOOL_NAME - 9]}_{digest}"


def function_schema(name: str, description: str | None, input_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The OpenAI function schema for an MCP tool, its JSON schema passed through as it is
    (made an object schema with `properties` when the server left those out, and without a
    malformed `required`, so neither the providers nor Herald's argument check trip on it)."""
    parameters = dict(input_schema or {})
    parameters.setdefault("type", "object")
    if not isinstance(parameters.get("properties"), Mapping):
        parameters["properties"] = {}
    required = parameters.get("required")
    if required is not None and not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
        del parameters["required"]  # malformed: the server still checks its own arguments
    return {
        "type": "function",
        "function": {"name": name, "description": description or "", "parameters": parameters},
    }


def result_text(result: Any) -> str:
    """A `CallToolResult` as the tool message's text.

    Text blocks are joined with newlines; images, audio and binary resources become a short
    placeholder naming type and size; resource links name their URI. Structured content is
    sent as JSON when no block carries text (servers are asked to mirror it in a text block,
    so sending both would say everything twice).
    """
    parts = [_block_text(block) for block in result.content or ()]
    has_text = any(getattr(block, "type", "") == "text" for block in result.content or ())
    structured = getattr(result, "structured_content", None)
    if structured is not None and not has_text:
        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    text = "\n".join(part for part in parts if part)
    return text or "(no output)"


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind}: {block.mime_type}, {_size(_decoded_length(block.data))}]"
    if kind == "resource_link":
        mime = f", {block.mime_type}" if getattr(block, "mime_type", None) else ""
        return f"[resource link: {block.uri}{mime}]"
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if text is not None:
            return str(text)
        mime = getattr(resource, "mime_type", None) or "application/octet-stream"
        return f"[resource {resource.uri}: {mime}, {_size(_decoded_length(getattr(resource, 'blob', '')))}]"
    return f"[{kind or 'unknown'} content]"


def _decoded_length(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError, TypeError):
        return len(data or "")


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
