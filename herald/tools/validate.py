"""Checking a model's tool arguments against the tool's schema.

Only what models actually get wrong is checked: the arguments are a JSON object,
required fields are present, and each field has the schema's basic type (and enum).
Every problem is reported in words the model can act on.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false)",
    "array": "an array",
    "object": "an object",
}


class ArgumentError(ValueError):
    """The arguments do not fit the schema; the message says what was wrong."""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_name(kind: Any) -> str:
    if isinstance(kind, list):  # JSON schema's union: {"type": ["string", "null"]}
        return " or ".join(_type_name(k) for k in kind)
    return _TYPE_NAMES.get(kind, str(kind)) if isinstance(kind, str) else "a value"


def _fits(value: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return any(_fits(value, one) for one in expected)
    if not isinstance(expected, str):
        return True  # not a type this checker knows: leave it to the tool
    if expected == "null":
        return value is None
    actual = _json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer" and actual == "number":
        return float(value).is_integer()  # 5.0 is an integer in JSON terms
    return actual == expected


def signature(parameters: Mapping[str, Any]) -> str:
    """A compact picture of the expected object, e.g. `{"path": string, "limit"?: integer}`."""
    required = set(parameters.get("required", ()))
    parts = []
    for key, spec in parameters.get("properties", {}).items():
        if not isinstance(spec, Mapping):
            spec = {}
        kind = spec.get("type", "any")
        if isinstance(kind, list):
            kind = " | ".join(map(str, kind))
        if "enum" in spec:
            kind = " | ".join(json.dumps(v) for v in spec["enum"])
        parts.append(f'"{key}"{"" if key in required else "?"}: {kind}')
    return "{" + ", ".join(parts) + "}"


def parse_arguments(raw: str | Mapping[str, Any] | None, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Decode and check `raw` (a JSON string, or an already-decoded mapping).

    Returns the arguments as a dict, integral floats made ints.
    Raises `ArgumentError` saying what was wrong and what was expected.
    """
    expected = f"Expected a JSON object like {signature(parameters)}."
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        args: Any = {}  # some models send "" for a call without arguments
    elif isinstance(raw, str):
        try:
            args = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ArgumentError(f"arguments are not valid JSON ({exc.msg} at position {exc.pos}). {expected}") from None
    else:
        args = dict(raw)
    if not isinstance(args, dict):
        raise ArgumentError(f"arguments must be a JSON object, got {_json_type(args)}. {expected}")

    properties = parameters.get("properties", {})
    problems = []
    for key in parameters.get("required", ()):
        if key not in args or args[key] is None:
            spec = properties.get(key, {})
            wanted = _type_name(spec.get("type")) if isinstance(spec, Mapping) else "a value"
            problems.append(f"missing required field '{key}' ({wanted})")
    for key, value in list(args.items()):
        spec = properties.get(key)
        if not isinstance(spec, Mapping):
            continue  # unknown extras are harmless; a misspelt required field is reported above
        if value is None and key not in parameters.get("required", ()):
            del args[key]  # explicit null for an optional field means "not given"
            continue
        kind = spec.get("type")
        if kind and not _fits(value, kind):
            problems.append(f"field '{key}' must be {_type_name(kind)}, got {_json_type(value)} {json.dumps(value)[:60]}")
            continue
        if kind == "integer" and isinstance(value, float):
            args[key] = int(value)
        if "enum" in spec and value not in spec["enum"]:
            choices = ", ".join(json.dumps(v) for v in spec["enum"])
            problems.append(f"field '{key}' must be one of {choices}, got {json.dumps(value)[:60]}")
    if problems:
        raise ArgumentError("; ".join(problems) + f". {expected}")
    return args
