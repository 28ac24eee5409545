"""Run the bundled local model for the length of a CLI command, when the settings ask for it."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

from herald.cli.config import Settings

LOCAL_MAX_TOKENS = 256

NOTICE = (
    "No provider configured: running {model} on this machine (a tiny model: expect weak answers). "
    "Set HERALD_API_KEY (or OPENROUTER_API_KEY) to use a real provider; `herald config` shows the settings."
)


@contextmanager
def local_provider(settings: Settings, notice: Callable[[str], object]) -> Iterator[Settings]:
    """Settings pointing at a local llama.cpp server started for this command, stopped after it.

    Settings that don't ask for the local model pass through untouched.

    Raises:
        herald.local.LocalExtraMissing / LocalModelError / LocalServerError: it cannot run.
    """
    if not (settings.local or settings.local_model):
        yield settings
        return
    from herald.local import start_local_provider

    with start_local_provider(settings.local_model) as provider:
        if "local" in settings.sources and settings.source("local").startswith("default"):
            notice(NOTICE.format(model=provider.model))
        # The small local model can't choose tools by itself (the server ignores tool_choice
        # "auto"), and every tool schema lengthens a CPU prompt: offer none unless asked.
        toolsets = settings.toolsets if "toolsets" in settings.sources else ()
        # A small base model rarely stops by itself: bound each answer so a turn ends in seconds.
        max_tokens = settings.max_tokens or LOCAL_MAX_TOKENS
        yield replace(
            settings, base_url=provider.base_url, model=provider.model, api_key=None,
            api_mode="chat_completions", toolsets=toolsets, max_tokens=max_tokens,
            max_continuations=0,  # continuing a base model's ramble only lengthens it
        )
