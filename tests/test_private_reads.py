"""No module in `herald/` reads another object's private attributes (`other._x`, `self._a._x`).

An object's own attributes are read through `self` / `cls`, or through an instance its class
method just made (`obj = cls(...)`, `obj = cls.__new__(cls)`); `super()._x` is its own too. What a
third-party library keeps private and offers no other way to reach is listed below, with why.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "herald"

ALLOWED = {
    ("herald/cli/live.py", "live._lock"): "rich's Live has no public lock; the print must hold the one its refresh thread takes",
    ("herald/local/serve.py", "llama._model"): "llama-cpp-python exposes the loaded model only as _model",
    ("herald/local/serve.py", "os._exit"): "the standard library's documented exit without cleanup",
    ("herald/serve/server.py", "os._exit"): "a forked worker ends without running its parent's cleanup (the standard library's documented way)",
}


def own_names(function: ast.AST) -> set[str]:
    """Names that are the object itself inside `function`: self, cls, and instances `cls` just made."""
    names = {"self", "cls"}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value.func
            made_by_cls = (isinstance(call, ast.Name) and call.id == "cls") or (
                isinstance(call, ast.Attribute) and call.attr == "__new__" and isinstance(call.value, ast.Name) and call.value.id == "cls"
            )
            if made_by_cls:
                names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def private_reads(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for function in functions:
        own = own_names(function)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in own:
                continue
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
                continue
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    return sorted(set(found))


def test_no_module_reads_another_objects_private_attributes() -> None:
    found = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in private_reads(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
        if (line.split(":")[0], line.split(": ", 1)[1]) not in ALLOWED
    ]
    assert not found, "private attributes of another object read:\n" + "\n".join(found)


def test_the_check_finds_a_private_read() -> None:
    source = "def f(agent, self):\n    self._own\n    return agent._llm._hooks, self._a._b\n"
    assert private_reads(source, "sample.py") == [
        "sample.py:3: agent._llm",
        "sample.py:3: agent._llm._hooks",
        "sample.py:3: self._a._b",
    ]
