"""The system prompt: who Herald is, plus the user's prompt, project context and memory."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from herald.context.files import load_context_files
from herald.context.memory import MemoryStore

IDENTITY = (
    "You are Herald, an AI agent working in the user's terminal. You have tools to inspect "
    "and change files and to run commands: use them to check facts instead of guessing, act "
    "when asked to, and say briefly what you did. Be concise."
)


def default_prompt(cwd: str | os.PathLike[str], today: date | None = None) -> str:
    """Herald's own part of the system prompt: identity, working directory, today's date."""
    day = today or date.today()
    return f"{IDENTITY}\n\nWorking directory: {cwd}\nToday's date: {day.isoformat()} ({day.strftime('%A')})"


def build_system_prompt(
    base: str | None,
    *,
    cwd: str | os.PathLike[str],
    skip_context_files: bool,
    memory: MemoryStore | None,
    today: date | None = None,
    herald_prompt: bool = True,
) -> str:
    """The full system prompt, in this order, blocks separated by blank lines:

    1. Herald's default prompt (`default_prompt`), unless `herald_prompt` is False;
    2. `base`, the user's own system prompt, when given;
    3. the project's context files for `cwd`, unless `skip_context_files`;
    4. `memory`'s block, when a store is given and it holds anything.

    `today` is for tests; it defaults to the local date. With nothing to say, it is "".
    """
    parts = [default_prompt(cwd, today)] if herald_prompt else []
    if base and base.strip():
        parts.append(base.strip())
    if not skip_context_files:
        bundle = load_context_files(Path(cwd))
        if bundle is not None:
            parts.append(bundle.render())
    if memory is not None:
        block = memory.system_prompt_block()
        if block:
            parts.append(block)
    return "\n\n".join(parts)
