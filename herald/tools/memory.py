"""`memory`: let the model keep notes that outlive the conversation."""

from __future__ import annotations

from typing import Any, Mapping

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line

TARGETS = ("memory", "user")
_LABELS = {"memory": "memory", "user": "user profile"}


class MemoryTool:
    """Adds, replaces, removes or reads entries in `ctx.memory` (the store does the work)."""

    name = "memory"
    toolset = "memory"
    read_only = False  # only the "read" action is; see `read_only_for`
    schema = function_schema(
        "memory",
        "Persistent memory that survives across sessions. target \"memory\": your own notes "
        "(facts about the environment, conventions, lessons learned). target \"user\": what you "
        "know about the user (preferences, role). Keep entries short; save only what will "
        "matter later. Actions: add (text), replace (old_text -> text), remove (old_text), read.",
        {
            "action": {"type": "string", "enum": ["add", "replace", "remove", "read"], "description": "What to do."},
            "target": {"type": "string", "enum": list(TARGETS), "description": "Which memory (default \"memory\")."},
            "text": {"type": "string", "description": "The entry to add, or the replacement text for replace."},
            "old_text": {"type": "string", "description": "A unique part of the existing entry, for replace and remove."},
        },
        ["action"],
    )

    def read_only_for(self, args: Mapping[str, Any]) -> bool:
        """Only reading memory is free of side effects."""
        return args.get("action") == "read"

    def preview(self, args: Mapping[str, Any]) -> str:
        """Action, target and the text involved."""
        text = args.get("text") or args.get("old_text") or ""
        return one_line(f"{args.get('action', '')} {args.get('target', 'memory')}: {text}".rstrip(": "))

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Delegate to the store; its `ValueError`s become clear errors for the model."""
        store = ctx.memory
        if store is None:
            return ToolResult("Error: memory is disabled in this session.", ok=False)
        action: str = args["action"]
        target: str = args.get("target", "memory")
        text = args.get("text")
        old = args.get("old_text")
        needs = {"add": ("text",), "replace": ("old_text", "text"), "remove": ("old_text",), "read": ()}[action]
        missing = [field for field in needs if not (args.get(field) or "").strip()]
        if missing:
            return ToolResult(f"Error: action {action!r} needs {' and '.join(repr(m) for m in missing)}.", ok=False)
        try:
            if action == "read":
                content = store.read(target)
                return ToolResult(content if content.strip() else f"({_LABELS[target]} is empty)")
            if action == "add":
                outcome = store.add(target, text)  # type: ignore[arg-type]
            elif action == "replace":
                outcome = store.replace(target, old, text)  # type: ignore[arg-type]
            else:
                outcome = store.remove(target, old)  # type: ignore[arg-type]
        except ValueError as exc:
            return ToolResult(f"Error: {exc}", ok=False)
        done = {"add": "added to", "replace": "replaced in", "remove": "removed from"}[action]
        message = f"{done} {_LABELS[target]}"
        if isinstance(outcome, str) and outcome.strip():
            message += f": {outcome}"
        return ToolResult(message)
