"""A Gemma 3 prompt that keeps tool calls and tool results.

llama-cpp-python's built-in "gemma" format maps only user and assistant turns: a `tool`
message (and the call that caused it) silently vanishes from the prompt, so the model never
sees a tool's result. The packaged GGUF carries no chat template to fall back on. This
renderer follows Gemma 3's turn format and writes calls and results the way Google's Gemma
function-calling guide does: calls as a fenced `tool_call` block in the model's turn, results
as a fenced `tool_output` block in a user turn.

Herald's own markers (the note on an interrupted answer) are left out of the prompt: small
models copy them into later answers.

Pure text in, text out: no llama_cpp import, so it is testable without the extra.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from herald.local.prompt_text import answer_text, continued_answer, open_prefix
from herald.local.prompt_text import message_text as _text

END_OF_TURN = "<end_of_turn>"
"""Stop sequence: the model closes its turn with it."""

_START = "<start_of_turn>"


def render_gemma3(
    messages: Iterable[Mapping[str, Any]],
    *,
    tools: list[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
) -> str:
    """The prompt for `messages`, ending with an open model turn (no <bos>: the server adds it).

    System messages are merged into the first user turn (Gemma has no system role); consecutive
    tool results share one user turn, as Gemma turns must alternate. A last assistant message with
    text (`continued_answer`) is the open turn: the prompt ends with its text, no end-of-turn after
    it, so the model continues that answer.
    """
    messages = list(messages)
    partial = continued_answer(messages)
    if partial is not None:
        messages = messages[:-1]
    system: list[str] = []
    turns: list[tuple[str, list[str]]] = []  # (role, parts): roles alternate user/model

    def add(role: str, part: str) -> None:
        if turns and turns[-1][0] == role:
            turns[-1][1].append(part)
        else:
            turns.append((role, [part]))

    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(_text(message.get("content")))
        elif role == "user":
            add("user", _text(message.get("content")))
        elif role == "assistant":
            add("model", _assistant_text(message))
        elif role in ("tool", "function"):
            add("user", f"```tool_output\n{_text(message.get('content'))}\n```")

    preamble = "\n\n".join(p for p in [*system, _tools_text(tools, tool_choice)] if p)
    if preamble:
        if turns and turns[0][0] == "user":
            turns[0][1].insert(0, preamble)
        else:
            turns.insert(0, ("user", [preamble]))

    prompt = "".join(f"{_START}{role}\n{_join(parts)}{END_OF_TURN}\n" for role, parts in turns)
    opened = f"{_START}model\n"
    if partial is None:
        return prompt + opened
    if turns and turns[-1][0] == "model":  # the partial follows a model turn's text (turns alternate)
        prompt = prompt[: -len(f"{END_OF_TURN}\n")] + "\n\n"
        opened = ""
    return prompt + opened + open_prefix(partial)[0]


def _assistant_text(message: Mapping[str, Any]) -> str:
    parts = [answer_text(message)]
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        arguments = function.get("arguments") or "{}"
        parts.append(f'```tool_call\n{{"name": {json.dumps(function.get("name", ""))}, "arguments": {arguments}}}\n```')
    return _join(parts)


def _tools_text(tools: list[Mapping[str, Any]] | None, tool_choice: Any) -> str:
    if not tools or tool_choice == "none":
        return ""
    lines = ["You can call these tools:"]
    for tool in tools:
        function = tool.get("function") or {}
        spec = {"name": function.get("name"), "description": function.get("description", ""), "parameters": function.get("parameters", {})}
        lines.append(json.dumps(spec))
    return "\n".join(lines)


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p)
