"""The context budget: what is sent must fit in the model's context window.

A conversation outgrows the window sooner or later (a pasted file, a long tool output). The
stored history always stays whole; what is *sent* is brought under the budget first:

1. the oldest tool outputs are cut to a short head, oldest first, until it fits;
2. then the oldest turns (a user message and everything up to the next one) are left out;
3. if the current turn alone still does not fit, `ContextOverflow` is raised before sending.

The window is `max_context_tokens` when known (a setting, or the local server's `n_ctx`).
When it is not, the provider's context-length error teaches it: the three wires' errors
(OpenAI-compatible servers, llama.cpp, Anthropic) are recognised here, and the limit and
the provider's own token count are read from the message, so the next attempt fits.

Token counts are estimates (bytes / 4, per message a few more), corrected by the ratio
between a provider's count and the estimate once a provider has said it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from herald.errors import ContextOverflow, ProviderError

BYTES_PER_TOKEN = 4
"""UTF-8 bytes per token, roughly, for English text and code with common tokenizers."""
MESSAGE_OVERHEAD = 4
"""Tokens a message costs besides its text (role, separators)."""
CUT_TO_CHARS = 400
"""What is kept of a tool output that is cut to fit."""
DEFAULT_RESERVE = 1024
"""Tokens kept free for the answer when no `max_tokens` is set."""
UNKNOWN_LIMIT_SHRINK = 0.75
"""A provider refused without saying its window: try with this share of what was sent."""

_OVERFLOW_PATTERNS = re.compile(
    "|".join(
        (
            r"context_length_exceeded",  # OpenAI's code; also vLLM, llama-cpp-python
            r"maximum context length",  # OpenAI, OpenRouter, vLLM, llama-cpp-python
            r"context window",  # OpenAI Responses, llama-cpp-python's ValueError
            r"exceed_context_size",  # llama.cpp server's error type
            r"exceeds the available context size",  # llama.cpp server
            r"prompt is too long",  # Anthropic
            r"exceed context limit",  # Anthropic: input + max_tokens > window
            r"input is too long",
            r"too many (input )?tokens",
            r"reduce the length of the messages",
        )
    ),
    re.IGNORECASE,
)
_NUMBER = r"(\d[\d,]*)"
_LIMIT_PATTERNS = [
    re.compile(rf"maximum context length is {_NUMBER}", re.IGNORECASE),
    re.compile(rf"context window of {_NUMBER}", re.IGNORECASE),
    re.compile(rf"exceed context limit: {_NUMBER} \+ {_NUMBER} > {_NUMBER}", re.IGNORECASE),  # last group
    re.compile(rf"> ?{_NUMBER} maximum", re.IGNORECASE),  # Anthropic: "210000 tokens > 200000 maximum"
    re.compile(rf'"n_ctx": ?{_NUMBER}'),  # llama.cpp server's error body
    re.compile(rf"limit of {_NUMBER} tokens", re.IGNORECASE),
]
_USED_PATTERNS = [
    re.compile(rf"\({_NUMBER} in the messages", re.IGNORECASE),  # vLLM, llama-cpp-python
    re.compile(rf"resulted in {_NUMBER} tokens", re.IGNORECASE),  # OpenAI
    re.compile(rf"requested about {_NUMBER} tokens", re.IGNORECASE),  # OpenRouter
    re.compile(rf"prompt is too long: {_NUMBER} tokens", re.IGNORECASE),  # Anthropic
    re.compile(rf"exceed context limit: {_NUMBER} \+", re.IGNORECASE),  # Anthropic
    re.compile(rf'"n_prompt_tokens": ?{_NUMBER}'),  # llama.cpp server
    re.compile(rf"requested tokens \({_NUMBER}\)", re.IGNORECASE),  # llama-cpp-python
]


def is_context_overflow(error: BaseException) -> bool:
    """True when `error` is a provider saying the request does not fit in the model's context."""
    if not isinstance(error, ProviderError):
        return False
    if error.status == 413:
        return True  # request too large
    return error.status in (400, 422, 500) and looks_like_overflow(_error_text(error))


def looks_like_overflow(text: str) -> bool:
    """True when an error message reads like a context-length error of one of the three wires."""
    return bool(_OVERFLOW_PATTERNS.search(text))


def context_limit_in(text: str) -> int | None:
    """The context window a context-length error states, in tokens, if it states one."""
    for pattern in _LIMIT_PATTERNS:
        match = pattern.search(text)
        if match:
            return _int(match.groups()[-1])
    return None


def tokens_used_in(text: str) -> int | None:
    """The prompt's size a context-length error states, in the provider's tokens, if it does."""
    for pattern in _USED_PATTERNS:
        match = pattern.search(text)
        if match:
            return _int(match.group(1))
    return None


def estimate_tokens(value: Any) -> int:
    """A rough token count of a message, a list of messages or any JSON-able value."""
    if isinstance(value, str):
        return math.ceil(len(value.encode("utf-8")) / BYTES_PER_TOKEN)
    if isinstance(value, Mapping) and "role" in value:
        parts = [value.get("content"), value.get("tool_calls"), value.get("reasoning")]
        return MESSAGE_OVERHEAD + sum(estimate_tokens(p) for p in parts if p)
    if isinstance(value, list) and all(isinstance(m, Mapping) and "role" in m for m in value):
        return sum(estimate_tokens(m) for m in value)
    if value is None:
        return 0
    return estimate_tokens(json.dumps(value, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class Fitted:
    """The history to send, and what was left out of it to fit.

    Attributes:
        messages: the messages to send (copies where something was cut).
        tokens: their estimated size, the system prompt and tools included.
        cut_outputs: how many tool outputs were cut to a short head.
        dropped_turns: how many of the oldest turns were left out.
        limit: the window it was fitted to (None: unknown, nothing was changed).
    """

    messages: list[dict[str, Any]]
    tokens: int
    cut_outputs: int = 0
    dropped_turns: int = 0
    limit: int | None = None

    @property
    def note(self) -> str:
        """One line for the user when something was left out, else ""."""
        parts = []
        if self.cut_outputs:
            parts.append(f"{_plural(self.cut_outputs, 'old tool output')} cut short")
        if self.dropped_turns:
            parts.append(f"{_plural(self.dropped_turns, 'oldest turn')} left out")
        if not parts:
            return ""
        return f"(context: {' and '.join(parts)} to fit the model's {self.limit:,} tokens; the session keeps everything)"


class ContextBudget:
    """What fits in one model's context window, as far as Herald knows.

    Args:
        limit: the window in tokens (`max_context_tokens`), or None until a provider says.
        reserve: tokens kept free for the answer (`max_tokens`), or None for `DEFAULT_RESERVE`.

    Example:
        budget = ContextBudget(limit=4096, reserve=256)
        fitted = budget.fit(system_prompt, history, tool_schemas)   # raises ContextOverflow
    """

    def __init__(self, limit: int | None = None, reserve: int | None = None) -> None:
        self.limit = limit
        self.reserve = reserve
        self.scale = 1.0
        """The provider's tokens per estimated token, once a provider has counted for us."""
        self.last_sent = 0
        """The estimated size of the last fitted request (to compare with a provider's count)."""

    # ── before sending ──────────────────────────────────────────────────

    def check_message(self, system_prompt: str, message: str, tools: Any = None) -> None:
        """Refuse a new user message that cannot fit even alone.

        Raises:
            ContextOverflow: the message with the system prompt and tools exceeds the window.
        """
        if self.limit is None:
            return
        needed = self._tokens(estimate_tokens(system_prompt) + estimate_tokens(tools) + estimate_tokens({"role": "user", "content": message}))
        room = self.limit - self._reserve()
        if needed > room:
            raise ContextOverflow(
                f"the message is too long for the model's context: about {needed:,} tokens, "
                f"and {room:,} fit (a {self.limit:,}-token window, {self._reserve():,} kept for the answer)",
                tokens=needed,
                limit=self.limit,
            )

    def fit(self, system_prompt: str, messages: list[dict[str, Any]], tools: Any = None) -> Fitted:
        """`messages` brought under the window: old tool outputs cut, then old turns left out.

        Raises:
            ContextOverflow: the current turn alone does not fit.
        """
        fixed = estimate_tokens(system_prompt) + estimate_tokens(tools)
        sizes = [estimate_tokens(m) for m in messages]
        total = fixed + sum(sizes)
        self.last_sent = total
        if self.limit is None or self._tokens(total) <= self.limit - self._reserve():
            return Fitted(list(messages), self._tokens(total), limit=self.limit)
        room = math.floor((self.limit - self._reserve()) / self.scale)
        kept = list(messages)
        cut = 0
        for index, message in enumerate(kept):
            if total <= room:
                break
            if message.get("role") == "tool" and len(str(message.get("content") or "")) > CUT_TO_CHARS:
                kept[index] = _cut_output(message)
                new_size = estimate_tokens(kept[index])
                total -= sizes[index] - new_size
                sizes[index] = new_size
                cut += 1
        dropped = 0
        starts = _turn_starts(kept)
        while total > room and len(starts) - dropped > 1:
            begin, end = starts[dropped], starts[dropped + 1]
            total -= sum(sizes[begin:end])
            dropped += 1
        if total > room:
            needed = self._tokens(total)
            raise ContextOverflow(
                f"the current turn is too long for the model's context: about {needed:,} tokens, "
                f"and {self.limit - self._reserve():,} fit (a {self.limit:,}-token window)",
                tokens=needed,
                limit=self.limit,
            )
        first = starts[dropped] if dropped else 0
        self.last_sent = total
        return Fitted(kept[first:], self._tokens(total), cut, dropped, self.limit)

    # ── after a provider's context-length error ─────────────────────────

    def learn(self, error: BaseException) -> bool:
        """Learn the window (and how the provider counts) from a context-length error.

        Returns:
            True if `error` is a context-length error (the next `fit` takes it into account).
        """
        if not is_context_overflow(error):
            return False
        text = _error_text(error)
        used = tokens_used_in(text)
        if used and self.last_sent:
            self.scale = min(max(used / self.last_sent, 0.25), 4.0)
        limit = context_limit_in(text)
        if limit is None:
            # Not said: aim well below what was just refused.
            limit = max(int(self._tokens(self.last_sent) * UNKNOWN_LIMIT_SHRINK), 1)
        self.limit = min(limit, self.limit) if self.limit is not None else limit
        return True

    # ── internals ───────────────────────────────────────────────────────

    def _reserve(self) -> int:
        if self.reserve is not None:
            return self.reserve
        return min(DEFAULT_RESERVE, (self.limit or 0) // 8)

    def _tokens(self, estimate: int) -> int:
        return math.ceil(estimate * self.scale)


def _turn_starts(messages: list[dict[str, Any]]) -> list[int]:
    """Where each turn begins: every user message, except the loop's own "continue" requests."""
    starts = [i for i, m in enumerate(messages) if m.get("role") == "user" and not m.get("continuation")]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)  # anything before the first user message goes with the first turn
    return starts


def _cut_output(message: dict[str, Any]) -> dict[str, Any]:
    content = str(message.get("content") or "")
    left_out = len(content) - CUT_TO_CHARS
    return {**message, "content": f"{content[:CUT_TO_CHARS]}\n[… {left_out:,} more characters left out to fit the model's context]"}


def _error_text(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, ProviderError):
        text += " " + error.provider_message
        if error.body is not None:
            text += " " + json.dumps(error.body, default=str)
    return text


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

