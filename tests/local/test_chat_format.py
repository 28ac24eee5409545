"""The Gemma 3 prompt keeps what llama-cpp-python's "gemma" format drops: tool calls and results."""

from __future__ import annotations

from herald.local.chat_format import render_gemma3

WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object"}},
}


def test_plain_conversation() -> None:
    prompt = render_gemma3([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}])
    assert prompt == (
        "<start_of_turn>user\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def test_system_is_merged_into_the_first_user_turn() -> None:
    prompt = render_gemma3([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert prompt == "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"


def test_tool_call_and_results_are_kept() -> None:
    prompt = render_gemma3(
        [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                    {"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "sunny"},
            {"role": "tool", "tool_call_id": "b", "content": "rain"},
        ]
    )
    assert '```tool_call\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```' in prompt
    assert '"arguments": {"city": "Rome"}' in prompt
    # both results in one user turn: Gemma's turns alternate
    assert "<start_of_turn>user\n```tool_output\nsunny\n```\n\n```tool_output\nrain\n```<end_of_turn>\n" in prompt
    assert prompt.endswith("<start_of_turn>model\n")
    assert prompt.count("<start_of_turn>") == 4


def test_tools_are_described_unless_tool_choice_is_none() -> None:
    messages = [{"role": "user", "content": "Weather?"}]
    assert '"name": "get_weather"' in render_gemma3(messages, tools=[WEATHER_TOOL])
    assert "get_weather" not in render_gemma3(messages, tools=[WEATHER_TOOL], tool_choice="none")


def test_content_parts_are_joined_as_text() -> None:
    prompt = render_gemma3([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]}])
    assert prompt.startswith("<start_of_turn>user\nab<end_of_turn>")


def test_a_trailing_assistant_message_is_left_open_to_be_continued() -> None:
    prompt = render_gemma3([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello the", "prefix": True}])
    assert prompt == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello the"
    assert not prompt.endswith("<end_of_turn>\n") and prompt.count("<start_of_turn>model") == 1


def test_a_continued_turn_after_tool_results_keeps_them_and_stays_open() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    prompt = render_gemma3(
        [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
            {"role": "assistant", "content": "It is sunny "},
        ]
    )
    assert prompt.endswith("```tool_output\nSunny\n```<end_of_turn>\n<start_of_turn>model\nIt is sunny")


def test_a_trailing_partial_after_an_earlier_model_turn_is_its_continuation() -> None:
    # Turns alternate: a partial after the model's own text belongs to that open turn.
    from herald.local.prompt_text import finish_continued

    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}, {"role": "assistant", "content": "And "}]
    assert render_gemma3(messages) == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello.\n\nAnd"
    plain = {"choices": [{"message": {"content": " there"}}]}
    assert finish_continued(plain, messages)["choices"][0]["message"]["content"] == "there"
    assert finish_continued({"choices": [{"message": {"content": " x"}}]}, messages[:1])["choices"][0]["message"]["content"] == " x"
