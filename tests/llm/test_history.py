"""Chat-format history → Responses and Anthropic request shapes."""

from __future__ import annotations

import json

from herald.llm.anthropic import DEFAULT_MAX_TOKENS, AnthropicWire
from herald.llm.history import (
    PROVIDER_DATA_KEY,
    to_anthropic_messages,
    to_anthropic_tools,
    to_responses_input,
    to_responses_tools,
)
from herald.llm.openai_chat import ChatCompletionsWire
from herald.llm.responses import ResponsesWire

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]

THINKING = {"type": "thinking", "thinking": "I should list files", "signature": "sig-123"}
ENCRYPTED = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA..."}

HISTORY = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is in a.txt and b.txt?"},
    {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.txt"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "b.txt"}'}},
        ],
        PROVIDER_DATA_KEY: {"anthropic": {"thinking_blocks": [THINKING]}, "responses": {"reasoning_items": [ENCRYPTED]}},
    },
    {"role": "tool", "tool_call_id": "call_a", "content": "alpha"},
    {"role": "tool", "tool_call_id": "call_b", "content": "beta"},
    {"role": "assistant", "content": "alpha and beta"},
    {"role": "user", "content": "thanks"},
]


class TestResponsesHistory:
    def test_system_becomes_instructions_and_tool_loop_becomes_items(self) -> None:
        instructions, items = to_responses_input(HISTORY)
        assert instructions == "You are terse."
        assert items == [
            {"role": "user", "content": "What is in a.txt and b.txt?"},
            ENCRYPTED,
            {"role": "assistant", "content": "Let me look."},
            {"type": "function_call", "call_id": "call_a", "name": "read_file", "arguments": '{"path": "a.txt"}'},
            {"type": "function_call", "call_id": "call_b", "name": "read_file", "arguments": '{"path": "b.txt"}'},
            {"type": "function_call_output", "call_id": "call_a", "output": "alpha"},
            {"type": "function_call_output", "call_id": "call_b", "output": "beta"},
            {"role": "assistant", "content": "alpha and beta"},
            {"role": "user", "content": "thanks"},
        ]

    def test_reasoning_items_without_encrypted_content_are_not_replayed(self) -> None:
        # With store=false a bare reasoning id is "not found": sending it breaks the turn.
        message = {"role": "assistant", "content": "hi", PROVIDER_DATA_KEY: {"responses": {"reasoning_items": [{"type": "reasoning", "id": "rs_1", "summary": []}]}}}
        _, items = to_responses_input([message])
        assert items == [{"role": "assistant", "content": "hi"}]

    def test_tools_are_flattened(self) -> None:
        assert to_responses_tools(TOOLS) == [
            {"type": "function", "name": "read_file", "description": "Read a file", "parameters": TOOLS[0]["function"]["parameters"]}
        ]

    def test_multimodal_user_content(self) -> None:
        message = {
            "role": "user",
            "content": [{"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
        }
        _, items = to_responses_input([message])
        assert items[0]["content"] == [
            {"type": "input_text", "text": "see"},
            {"type": "input_image", "image_url": "https://x/y.png", "detail": "auto"},
        ]

    def test_build_kwargs(self) -> None:
        kwargs = ResponsesWire().build_kwargs("gpt-5", HISTORY[:2], TOOLS, max_tokens=100)
        assert kwargs["model"] == "gpt-5"
        assert kwargs["instructions"] == "You are terse."
        assert kwargs["max_output_tokens"] == 100
        assert kwargs["tools"][0]["name"] == "read_file"
        assert "messages" not in kwargs and "stream" not in kwargs


class TestAnthropicHistory:
    def test_tool_loop_with_thinking_replay(self) -> None:
        system, turns = to_anthropic_messages(HISTORY)
        assert system == "You are terse."
        assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant", "user"]
        assistant = turns[1]["content"]
        assert assistant[0] == THINKING  # thinking first, signature intact
        assert assistant[1] == {"type": "text", "text": "Let me look."}
        assert assistant[2] == {"type": "tool_use", "id": "call_a", "name": "read_file", "input": {"path": "a.txt"}}
        assert assistant[3]["id"] == "call_b"
        # Consecutive tool results merge into one user turn.
        assert turns[2]["content"] == [
            {"type": "tool_result", "tool_use_id": "call_a", "content": "alpha"},
            {"type": "tool_result", "tool_use_id": "call_b", "content": "beta"},
        ]
        assert turns[4]["content"] == [{"type": "text", "text": "thanks"}]

    def test_tool_results_and_following_user_text_share_a_turn(self) -> None:
        history = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "done"},
            {"role": "user", "content": "and now?"},
        ]
        _, turns = to_anthropic_messages(history)
        assert [t["role"] for t in turns] == ["user", "assistant", "user"]
        assert [b["type"] for b in turns[2]["content"]] == ["tool_result", "text"]
        assert turns[1]["content"] == [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]

    def test_empty_assistant_turn_is_dropped(self) -> None:
        _, turns = to_anthropic_messages([{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "b"}])
        assert turns == [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]

    def test_unparsable_arguments_are_kept_visible(self) -> None:
        call = {"id": "t1", "type": "function", "function": {"name": "f", "arguments": '{"broken'}}
        _, turns = to_anthropic_messages([{"role": "assistant", "content": None, "tool_calls": [call]}])
        assert turns[0]["content"][0]["input"] == {"_unparsed_arguments": '{"broken'}

    def test_images(self) -> None:
        content = [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        ]
        _, turns = to_anthropic_messages([{"role": "user", "content": content}])
        assert turns[0]["content"] == [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
        ]

    def test_tools(self) -> None:
        assert to_anthropic_tools(TOOLS) == [
            {"name": "read_file", "description": "Read a file", "input_schema": TOOLS[0]["function"]["parameters"]}
        ]

    def test_build_kwargs_requires_max_tokens(self) -> None:
        kwargs = AnthropicWire().build_kwargs("claude", HISTORY, TOOLS)
        assert kwargs["max_tokens"] == DEFAULT_MAX_TOKENS
        assert kwargs["system"] == "You are terse."
        assert AnthropicWire().build_kwargs("claude", HISTORY, max_tokens=50)["max_tokens"] == 50
        assert "tools" not in AnthropicWire().build_kwargs("claude", HISTORY)


class TestChatHistory:
    def test_chat_build_kwargs_strips_replay_data(self) -> None:
        kwargs = ChatCompletionsWire().build_kwargs("m", HISTORY, TOOLS)
        assert kwargs["tools"] == TOOLS
        assert all(PROVIDER_DATA_KEY not in m for m in kwargs["messages"])
        assert kwargs["messages"][2]["tool_calls"] == HISTORY[2]["tool_calls"]
        json.dumps(kwargs)  # plain data, sendable as is
