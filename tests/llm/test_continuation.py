"""Continuing a cut answer, sans-IO: the setting, which servers, the request per wire, the seam."""

from __future__ import annotations

import pytest

from herald.errors import ConfigError, ProviderError
from herald.llm.continuation import (
    SeamFilter,
    check_setting,
    continuation_enabled,
    continuation_request,
    join,
    refuses_continuation,
    sent_prefix,
    server_kind_from,
)

CHAT = {"model": "m", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}], "max_tokens": 50}


# ── the setting ─────────────────────────────────────────────────────────


@pytest.mark.parametrize("value", ["off", "auto", "prefill"])
def test_settings_are_accepted(value: str) -> None:
    assert check_setting(value) == value


def test_no_setting_is_auto() -> None:
    assert check_setting(None) == "auto"


@pytest.mark.parametrize("value", ["on", "", "AUTO", 1, True])
def test_a_bad_setting_is_one_line_config_error(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        check_setting(value, where="fallback 2: continuation")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("fallback 2: continuation must be one of off, auto, prefill")


# ── which servers ───────────────────────────────────────────────────────


def test_llama_cpp_names_itself_in_the_server_header() -> None:
    assert server_kind_from({"Server": "llama.cpp"}, None) == "llama.cpp"
    assert server_kind_from({"server": "uvicorn"}, None) is None


def test_the_bundled_local_server_names_itself_beside_uvicorn() -> None:
    # Two Server headers (uvicorn's and Herald's) arrive joined by a comma.
    assert server_kind_from({"server": "uvicorn, herald-local"}, None) == "herald-local"
    assert server_kind_from({"server": "herald-local"}, None) == "herald-local"


def test_the_server_is_learned_once_per_base_url() -> None:
    from herald.llm.fallback import StreamSupportMemory

    memory = StreamSupportMemory()
    assert memory.server_kind("http://a/v1") is None
    memory.learn_server("http://a/v1", {"server": "llama.cpp"})
    memory.learn_server("http://a/v1", {"server": "uvicorn"})  # later responses change nothing
    memory.learn_server("http://b/v1", {"server": "uvicorn"})
    assert (memory.server_kind("http://a/v1"), memory.server_kind("http://b/v1")) == ("llama.cpp", None)


@pytest.mark.parametrize(("owner", "kind"), [("vllm", "vllm"), ("sglang", "sglang"), ("llamacpp", "llama.cpp")])
def test_the_models_listing_names_the_server(owner: str, kind: str) -> None:
    body = {"object": "list", "data": [{"id": "x", "object": "model", "owned_by": owner}]}
    assert server_kind_from({"server": "uvicorn"}, body) == kind


@pytest.mark.parametrize("body", [None, {}, {"data": "x"}, {"data": [{"id": "gpt-4o", "owned_by": "openai"}]}, {"data": [1]}])
def test_other_listings_name_no_server(body: object) -> None:
    assert server_kind_from(None, body) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "base_url", "mode", "kind", "expected"),
    [
        ("auto", "http://127.0.0.1:8080/v1", "chat_completions", "llama.cpp", True),
        ("auto", "http://127.0.0.1:41234/v1", "chat_completions", "herald-local", True),
        ("auto", "http://10.0.0.5:8000/v1", "chat_completions", "vllm", True),
        ("auto", "http://10.0.0.5:30000/v1", "chat_completions", "sglang", True),
        ("auto", "https://api.deepseek.com/v1", "chat_completions", None, True),
        ("auto", "https://api.mistral.ai/v1", "chat_completions", None, True),
        ("auto", "https://openrouter.ai/api/v1", "chat_completions", None, False),
        ("auto", "http://127.0.0.1:8080/v1", "chat_completions", None, False),
        ("auto", "https://api.anthropic.com", "anthropic_messages", None, False),
        ("auto", "https://evil-api.deepseek.com.example/v1", "chat_completions", None, False),
        ("prefill", "https://api.anthropic.com", "anthropic_messages", None, True),
        ("prefill", "https://openrouter.ai/api/v1", "chat_completions", None, True),
        ("prefill", "https://api.openai.com/v1", "codex_responses", None, False),
        ("off", "http://127.0.0.1:8080/v1", "chat_completions", "llama.cpp", False),
    ],
)
def test_where_continuation_is_on(setting: str, base_url: str, mode: str, kind: str | None, expected: bool) -> None:
    assert continuation_enabled(setting, base_url=base_url, api_mode=mode, server_kind=kind) is expected  # type: ignore[arg-type]


# ── the request ─────────────────────────────────────────────────────────


def test_chat_continuation_carries_every_servers_convention() -> None:
    kwargs = continuation_request("chat_completions", CHAT, "The capital of Fra")
    assert kwargs is not None
    assert kwargs["messages"][:-1] == CHAT["messages"]
    assert kwargs["messages"][-1] == {"role": "assistant", "content": "The capital of Fra", "prefix": True}
    assert kwargs["extra_body"] == {"continue_final_message": True, "add_generation_prompt": False}
    assert kwargs["max_tokens"] == 50
    assert len(CHAT["messages"]) == 2 and "extra_body" not in CHAT  # the original request is unchanged


def test_chat_continuation_keeps_other_body_fields() -> None:
    kwargs = continuation_request("chat_completions", {**CHAT, "extra_body": {"temperature": 0.2}}, "abc")
    assert kwargs is not None and kwargs["extra_body"]["temperature"] == 0.2


def test_anthropic_continuation_is_a_prefill_without_trailing_whitespace() -> None:
    request = {"model": "claude", "system": "s", "messages": [{"role": "user", "content": "q"}], "max_tokens": 50}
    kwargs = continuation_request("anthropic_messages", request, "Paris is the \n")
    assert kwargs is not None
    assert kwargs["messages"][-1] == {"role": "assistant", "content": [{"type": "text", "text": "Paris is the"}]}
    assert "extra_body" not in kwargs and kwargs["system"] == "s"
    assert sent_prefix("anthropic_messages", "Paris is the \n") == "Paris is the"
    assert sent_prefix("chat_completions", "Paris is the \n") == "Paris is the \n"


def test_no_continuation_inside_a_tool_call_or_signed_reasoning_or_on_responses() -> None:
    anthropic = {"model": "c", "messages": [{"role": "user", "content": "q"}]}
    assert continuation_request("chat_completions", CHAT, "Let me look", tool_call=True) is None
    assert continuation_request("anthropic_messages", anthropic, "So", reasoning="thinking…") is None
    assert continuation_request("codex_responses", {"model": "m", "input": []}, "text") is None
    assert continuation_request("chat_completions", CHAT, "  \n") is None  # nothing to continue


def test_chat_reasoning_is_not_signed_so_the_text_continues() -> None:
    assert continuation_request("chat_completions", CHAT, "Answer:", reasoning="hmm") is not None


# ── refusals ────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "message",
    [
        "This model does not support assistant message prefill. The conversation must end with a user message.",
        "continue_final_message and add_generation_prompt cannot both be true.",
        "Invalid parameter: prefix is only allowed on the last assistant message",
    ],
)
def test_a_400_about_prefill_or_the_flags_is_a_refusal(message: str) -> None:
    assert refuses_continuation(ProviderError(message, status=400, provider_message=message))


def test_other_errors_are_not_refusals() -> None:
    assert not refuses_continuation(ProviderError("prefill exploded", status=500))
    assert not refuses_continuation(ProviderError("maximum context length exceeded", status=400))
    assert not refuses_continuation(ValueError("prefill"))


# ── the seam ────────────────────────────────────────────────────────────


def test_a_mid_word_cut_joins_without_loss() -> None:
    assert join("The capital of Fra", "nce is Paris.") == "The capital of France is Paris."


def test_whitespace_at_the_seam_is_kept() -> None:
    assert join("one two ", "three") == "one two three"
    assert join("one two", " three") == "one two three"
    assert join("line\n", "\nnext") == "line\n\nnext"


def test_an_echoed_prefix_is_removed() -> None:
    assert join("The capital of Fra", "The capital of France is Paris.") == "The capital of France is Paris."


def test_a_partial_overlap_that_is_not_an_echo_is_kept() -> None:
    # The continuation starts with the prefix's last word: new text (a model may write "the the").
    assert join("I saw the", "the cat") == "I saw thethe cat"
    assert join("abcabc", "abcd") == "abcabcabcd"


def test_whitespace_anthropic_could_not_take_is_not_shown_twice() -> None:
    shown = "Paris is the "
    sent = sent_prefix("anthropic_messages", shown)
    assert join(shown, " capital.", sent=sent) == "Paris is the capital."
    assert join(shown, "capital.", sent=sent) == "Paris is the capital."


def test_the_seam_filter_holds_an_echo_back_while_it_streams() -> None:
    seam = SeamFilter("Hello wor")
    shown = [seam.feed(piece) for piece in ["Hel", "lo ", "wor", "ld", "!"]]
    assert shown == ["", "", "", "ld", "!"]
    assert seam.finish() == ""


def test_the_seam_filter_releases_held_text_that_was_no_echo() -> None:
    seam = SeamFilter("Hello wor")
    assert seam.feed("Hel") == ""
    assert seam.feed("p!") == "Help!"
    seam = SeamFilter("Hello wor")
    assert seam.feed("He") == ""
    assert seam.finish() == "He"  # the stream ended: it was new text after all


def test_a_uvicorn_server_may_be_named_by_its_listing_read_once() -> None:
    from herald.llm.continuation import listing_may_tell
    from herald.llm.fallback import StreamSupportMemory

    assert listing_may_tell({"Server": "uvicorn"}) and not listing_may_tell({"server": "cloudflare"}) and not listing_may_tell(None)
    memory = StreamSupportMemory()
    memory.learn_server("http://v/v1", {"server": "uvicorn"})
    memory.learn_server("http://o/v1", {"server": "cloudflare"})
    memory.learn_server("http://l/v1", {"server": "llama.cpp"})
    assert [memory.wants_listing(u) for u in ("http://v/v1", "http://o/v1", "http://l/v1")] == [True, False, False]
    memory.learn_listing("http://v/v1", {"data": [{"id": "m", "owned_by": "vllm"}]})
    assert memory.server_kind("http://v/v1") == "vllm" and not memory.wants_listing("http://v/v1")
    memory.learn_server("http://s/v1", {"server": "uvicorn"})
    memory.learn_listing("http://s/v1", None)  # no listing: nothing learned, never asked again
    assert memory.server_kind("http://s/v1") is None and not memory.wants_listing("http://s/v1")
