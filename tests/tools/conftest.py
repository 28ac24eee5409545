"""Shared fixtures: a working directory, a context factory and a full registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from herald.tools import ApprovalGate, ToolContext, ToolRegistry


class FakeMemory:
    """A minimal store with the interface the memory tool delegates to."""

    def __init__(self) -> None:
        self.entries: dict[str, list[str]] = {"memory": [], "user": []}

    def add(self, target: str, text: str) -> None:
        if text in self.entries[target]:
            raise ValueError(f"duplicate entry: {text!r}")
        self.entries[target].append(text)

    def _find(self, target: str, text: str) -> int:
        hits = [i for i, e in enumerate(self.entries[target]) if text in e]
        if len(hits) != 1:
            raise ValueError(f"{len(hits)} entries match {text!r}; need exactly one")
        return hits[0]

    def replace(self, target: str, old: str, new: str) -> None:
        self.entries[target][self._find(target, old)] = new

    def remove(self, target: str, text: str) -> None:
        del self.entries[target][self._find(target, text)]

    def read(self, target: str) -> str:
        return "\n".join(self.entries[target])


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., ToolContext]:
    def make(**overrides: Any) -> ToolContext:
        fields: dict[str, Any] = {"cwd": tmp_path, "approval": ApprovalGate()}
        fields.update(overrides)
        return ToolContext(**fields)

    return make


@pytest.fixture
def ctx(make_ctx: Callable[..., ToolContext]) -> ToolContext:
    return make_ctx()


@pytest.fixture
def memory_store() -> FakeMemory:
    return FakeMemory()


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry.from_toolsets(memory_enabled=True, environ={})
