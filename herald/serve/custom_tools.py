"""The Responses API's `custom` (freeform) tools, carried as function tools.

A custom tool takes one string, not JSON (Codex CLI declares `apply_patch` so for some models),
and no provider wire behind the gateway (chat, Anthropic, Responses as Herald speaks it) carries
one. So each becomes a function tool of the same name with one required string parameter,
`input`, and a description that says so (with the tool's grammar, if it has one); the model's
call of it goes back to the client as a `custom_tool_call` whose input is that string.

Sans-IO and pure: the request side (`function_tool`, `call_arguments`) and the answer side
(`call_input`) are inverses for any string.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from herald.serve.call import BadRequest

PARAMETER = "input"
"""The one parameter of the function tool a custom tool becomes."""

GRAMMAR_LIMIT = 8000
"""Characters of a grammar definition kept in the description; a longer one is cut there and
marked, so one tool cannot flood the prompt."""

_SCHEMA = {
    "type": "object",
    "properties": {PARAMETER: {"type": "string", "description": "The tool's whole freeform input, verbatim (not JSON)."}},
    "required": [PARAMETER],
    "additionalProperties": False,
}


def function_tool(tool: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A Responses `custom` tool → the chat wire's function tool of the same name.

    Raises:
        BadRequest: no name, or a `format` that is neither `text` nor a `grammar` with a definition.
    """
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"{where}: a custom tool needs a name")
    description = tool.get("description")
    if description is not None and not isinstance(description, str):
        raise BadRequest(f"{where}.description: must be a string")
    lines = [description] if description else []
    lines.append(
        f"This tool takes freeform text, not JSON fields: pass the whole input, verbatim, "
        f"as the string parameter `{PARAMETER}`."
    )
    lines.extend(_format_lines(tool.get("format"), f"{where}.format"))
    return {"type": "function", "function": {"name": name, "description": "\n\n".join(lines), "parameters": _SCHEMA}}


def _format_lines(fmt: Any, where: str) -> list[str]:
    if fmt is None:
        return []
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind == "text":
        return []
    if kind != "grammar":
        raise BadRequest(f"{where}: must be {{\"type\": \"text\"}} or {{\"type\": \"grammar\", ...}}")
    definition, syntax = fmt.get("definition"), fmt.get("syntax") or "lark"
    if not isinstance(definition, str) or not definition:
        raise BadRequest(f"{where}.definition: required (a string)")
    if not isinstance(syntax, str):
        raise BadRequest(f"{where}.syntax: must be a string")
    if len(definition) > GRAMMAR_LIMIT:
        definition = definition[:GRAMMAR_LIMIT] + f"\n… (grammar cut at {GRAMMAR_LIMIT} of {len(definition)} characters)"
    return [f"The input must match this {syntax} grammar:\n{definition}"]


def call_arguments(text: str) -> str:
    """A `custom_tool_call`'s input → the function call's JSON arguments."""
    return json.dumps({PARAMETER: text}, ensure_ascii=False)


def call_input(arguments: str | None) -> str:
    """A function call's arguments → the custom tool call's input: the `input` string of a JSON
    object that has one; otherwise the arguments as the model sent them (a model that ignored
    the schema still gets its text to the client, which can judge it, rather than nothing)."""
    text = arguments or ""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict) and isinstance(value.get(PARAMETER), str):
        return str(value[PARAMETER])
    return text


__all__ = ["GRAMMAR_LIMIT", "PARAMETER", "call_arguments", "call_input", "function_tool"]
