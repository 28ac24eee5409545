"""The wire for each API mode."""

from __future__ import annotations

from herald.errors import ConfigError
from herald.llm.wire import Wire
from herald.llm.endpoint import API_MODES
from herald.llm.openai_chat import ChatCompletionsWire


def wire_for(api_mode: str) -> Wire:
    """The `Wire` that speaks `api_mode`.

    Raises:
        ConfigError: an unknown mode.
    """
    if api_mode == "chat_completions":
        return ChatCompletionsWire()
    if api_mode == "codex_responses":
        from herald.llm.responses import ResponsesWire

        return ResponsesWire()
    if api_mode == "anthropic_messages":
        from herald.llm.anthropic import AnthropicWire

        return AnthropicWire()
    raise ConfigError(f"unknown api_mode {api_mode!r}: choose one of {', '.join(API_MODES)}")
