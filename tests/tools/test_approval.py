"""The approval gate: refusing, yolo, once / always / deny, writes outside the working dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from herald.tools import ApprovalGate, ApprovalRequest, ToolRegistry


class Asker:
    """An approval callback that records requests and answers from a script."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    def __call__(self, request: ApprovalRequest) -> Any:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def run(registry: ToolRegistry, ctx: Any, command: str) -> Any:
    return registry.execute("terminal", {"command": command}, ctx)


def test_dangerous_command_refused_without_callback(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    result = run(registry, make_ctx(), "rm -rf d")
    assert not result.ok
    assert result.content == "refused: recursive delete (rm -r); ask the user to run it or enable yolo"
    assert (tmp_path / "d").exists()


def test_yolo_allows_without_asking(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    asker = Asker()
    result = run(registry, make_ctx(approval=ApprovalGate(asker, yolo=True)), "rm -rf d")
    assert result.ok, result.content
    assert not (tmp_path / "d").exists()
    assert asker.requests == []


def test_safe_commands_never_ask(registry: ToolRegistry, make_ctx: Any) -> None:
    asker = Asker()
    assert run(registry, make_ctx(approval=ApprovalGate(asker)), "echo fine").ok
    assert asker.requests == []


def test_once_allows_this_time_only(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    asker = Asker("once", "deny")
    ctx = make_ctx(approval=ApprovalGate(asker))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run(registry, ctx, "rm -rf a").ok
    assert not (tmp_path / "a").exists()
    request = asker.requests[0]
    assert (request.kind, request.subject, request.keys) == ("command", "rm -rf a", ("rm-recursive",))
    assert request.reason == "recursive delete (rm -r)"
    denied = run(registry, ctx, "rm -rf b")
    assert not denied.ok and "the user denied this (recursive delete (rm -r))" in denied.content
    assert (tmp_path / "b").exists()
    assert len(asker.requests) == 2


def test_always_approves_the_pattern_for_the_gate_lifetime(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    asker = Asker("always", "deny")
    gate = ApprovalGate(asker)
    ctx = make_ctx(approval=gate)
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    assert run(registry, ctx, "rm -rf a").ok
    assert run(registry, ctx, "rm -r b c").ok
    assert len(asker.requests) == 1
    assert gate.approved_keys == {"rm-recursive"}
    # A different pattern still asks.
    assert not run(registry, ctx, "git reset --hard").ok
    assert len(asker.requests) == 2


@pytest.mark.parametrize("failure", [RuntimeError("no tty"), KeyboardInterrupt(), EOFError(), "yes", None])
def test_a_failing_or_odd_callback_counts_as_deny(registry: ToolRegistry, make_ctx: Any, tmp_path: Path, failure: Any) -> None:
    (tmp_path / "d").mkdir()
    result = run(registry, make_ctx(approval=ApprovalGate(Asker(failure))), "rm -rf d")
    assert not result.ok and "denied" in result.content
    assert (tmp_path / "d").exists()


def test_interrupt_during_the_prompt_counts_as_deny(tmp_path: Path) -> None:
    state = {"interrupted": False}

    def callback(request: ApprovalRequest) -> str:
        state["interrupted"] = True  # the user hit Ctrl-C while the prompt was up
        return "always"

    gate = ApprovalGate(callback)
    verdict = gate.check_command("rm -rf x", is_interrupted=lambda: state["interrupted"])
    assert not verdict.allowed
    assert gate.approved_keys == frozenset()


def test_yolo_can_be_toggled_later() -> None:
    gate = ApprovalGate()
    assert not gate.check_command("reboot").allowed
    gate.yolo = True
    assert gate.check_command("reboot").allowed


# --- writes outside the working directory ---------------------------------


def test_write_inside_cwd_needs_no_approval(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    asker = Asker()
    result = registry.execute("write_file", {"path": "sub/x.txt", "content": "hi"}, make_ctx(approval=ApprovalGate(asker)))
    assert result.ok and asker.requests == []


def test_write_outside_cwd_refused_without_callback(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir()
    result = registry.execute("write_file", {"path": "../escape.txt", "content": "x"}, make_ctx(cwd=cwd))
    assert not result.ok
    assert result.content.startswith("refused: writes outside the working directory")
    assert not (tmp_path / "escape.txt").exists()


def test_write_through_symlink_outside_cwd_asks(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    outside = tmp_path / "outside"
    cwd.mkdir()
    outside.mkdir()
    os.symlink(outside, cwd / "link")
    asker = Asker("deny")
    result = registry.execute("write_file", {"path": "link/x.txt", "content": "x"}, make_ctx(cwd=cwd, approval=ApprovalGate(asker)))
    assert not result.ok
    assert asker.requests[0].kind == "write"
    assert asker.requests[0].subject == str((outside / "x.txt").resolve())
    assert not (outside / "x.txt").exists()


def test_patch_outside_cwd_asks_and_always_covers_the_directory(registry: ToolRegistry, make_ctx: Any, tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    outside = tmp_path / "outside"
    cwd.mkdir()
    outside.mkdir()
    (outside / "a.txt").write_text("old\n")
    asker = Asker("always")
    ctx = make_ctx(cwd=cwd, approval=ApprovalGate(asker))
    assert registry.execute("patch", {"path": str(outside / "a.txt"), "old_string": "old", "new_string": "new"}, ctx).ok
    assert (outside / "a.txt").read_text() == "new\n"
    assert registry.execute("write_file", {"path": str(outside / "deep" / "b.txt"), "content": "b"}, ctx).ok
    assert len(asker.requests) == 1
