"""The provider's model list, to check a `/model NAME` before switching to it."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from typing import Any

from herald.agent.core import AIAgent

log = logging.getLogger("herald.cli")

LIST_TIMEOUT = 5.0
"""Seconds to wait for the list: a slow or missing list must not hold up the chat."""


@dataclass(frozen=True)
class ModelCheck:
    """What the provider's list says about a model name.

    Attributes:
        listed: the provider's model ids, or None when it has no list (or it could not be had).
        known: the name is in the list.
        suggestions: close names from the list, when it is not.
        context_window: the model's context window, when the list says (OpenRouter's
            `context_length`, vLLM's `max_model_len`).
    """

    listed: list[str] | None
    known: bool
    suggestions: list[str]
    context_window: int | None = None


def check_model(agent: AIAgent, name: str) -> ModelCheck:
    """Look `name` up in the provider's model list (`GET /models`)."""
    entries = _list_models(agent)
    if not entries:
        return ModelCheck(None, False, [])
    ids = [str(entry.get("id")) for entry in entries if entry.get("id")]
    entry = next((e for e in entries if e.get("id") == name), None)
    if entry is None:
        return ModelCheck(ids, False, difflib.get_close_matches(name, ids, n=3, cutoff=0.5))
    return ModelCheck(ids, True, [], _context_window(entry))


def _list_models(agent: AIAgent) -> list[dict[str, Any]]:
    try:
        return agent.client.list_models(timeout=LIST_TIMEOUT)
    except Exception:  # no list, an auth error, a timeout: the name just cannot be checked
        log.debug("the model list could not be read", exc_info=True)
        return []


def _context_window(entry: dict[str, Any]) -> int | None:
    for key in ("context_length", "max_model_len", "context_window"):
        value = entry.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None
