"""The types every tool shares: what a tool may use (`ToolContext`), what it returns
(`ToolResult`) and what it must look like (`Tool`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:
    from herald.tools.approval import ApprovalGate

DEFAULT_OUTPUT_CAP = 50_000


@runtime_checkable
class MemoryStore(Protocol):
    """The persistent memory a `memory` tool call delegates to.

    Every method raises `ValueError` with a message fit for the model on bad input.
    `target` is "memory" (the agent's notes) or "user" (what it knows about the user).
    """

    def add(self, target: str, text: str) -> object: ...

    def replace(self, target: str, old: str, new: str) -> object: ...

    def remove(self, target: str, text: str) -> object: ...

    def read(self, target: str) -> str: ...


def _never_interrupted() -> bool:
    return False


@dataclass(frozen=True)
class ToolContext:
    """Everything a tool may use while it runs.

    Attributes:
        cwd: the working directory; relative paths resolve against it and writes outside it ask.
        approval: the gate that decides on dangerous commands and writes outside `cwd`.
        memory: the persistent memory store, or None when memory is disabled.
        is_interrupted: polled by long-running tools; True means stop as soon as possible.
        output_cap: the most characters of one result sent to the model.
    """

    cwd: Path
    approval: ApprovalGate
    memory: MemoryStore | None = None
    is_interrupted: Callable[[], bool] = field(default=_never_interrupted)
    output_cap: int = DEFAULT_OUTPUT_CAP


@dataclass
class ToolResult:
    """What a tool call produced: the text for the model, and whether it succeeded."""

    content: str
    ok: bool = True


@runtime_checkable
class Tool(Protocol):
    """A tool the model can call.

    Attributes:
        name: the function name the model uses.
        toolset: the toolset it belongs to (see `herald.tools.toolsets`).
        schema: the OpenAI function schema `{"type": "function", "function": {...}}`.
        read_only: True when calls never change anything, so the loop may run them in parallel.
    """

    name: str
    toolset: str
    schema: dict[str, Any]
    read_only: bool

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Do the work. `args` already passed schema validation; may raise on failure."""
        ...

    def preview(self, args: Mapping[str, Any]) -> str:
        """A short one-line summary of the arguments for progress displays."""
        ...


def function_schema(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """Build an OpenAI function-tool schema."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


def one_line(text: str, limit: int = 80) -> str:
    """Squash `text` to a single line of at most `limit` characters, for previews."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
