"""Continue a cut answer instead of restarting it. Sans-IO: decisions and request shapes only.

When a stream breaks after text was shown, a server that can continue an assistant message
from a given prefix is asked for the rest, not for the whole answer again:

    continuation_request("chat_completions", api_kwargs, "The capital of Fra")
    # → api_kwargs with a trailing {"role": "assistant", "content": "The capital of Fra",
    #   "prefix": True}, and continue_final_message / add_generation_prompt in the body

The conventions, per server:
- vLLM and SGLang read `continue_final_message: true` with `add_generation_prompt: false`
  (top-level body fields); DeepSeek and Mistral read `prefix: true` on the last assistant
  message; the llama.cpp server prefills a trailing assistant message. One chat request carries
  all of them: each server reads its own and ignores the others.
- Anthropic continues a trailing assistant message (a prefill) whose text must not end in
  whitespace (the API rejects it). Newer Claude models reject prefill with a 400: that is
  `refuses_continuation`, and the caller restarts instead.
- The Responses API has no prefix convention here: `None` (restart).

The setting (`"off" | "auto" | "prefill"`, per provider) and `continuation_enabled` decide
whether to try at all; "auto" tries only where the server is known to support it.
`join` / `SeamFilter` put the partial and its continuation together, removing nothing at the
seam unless the provider demonstrably sent it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping
from urllib.parse import urlparse

from herald.errors import ConfigError, ProviderError

Setting = Literal["off", "auto", "prefill"]
SETTINGS: tuple[Setting, ...] = ("off", "auto", "prefill")
DEFAULT: Setting = "auto"

ServerKind = Literal["vllm", "sglang", "llama.cpp", "herald-local"]
KNOWN_SERVERS: tuple[ServerKind, ...] = ("vllm", "sglang", "llama.cpp", "herald-local")
LOCAL_SERVER: ServerKind = "herald-local"
"""The bundled local model's server (llama-cpp-python with Herald's prompt formats, which leave a
trailing assistant message open: `herald.local`). It says so in a `Server` header of its own."""

# APIs that document prefix continuation, by host: DeepSeek ("chat prefix completion") and
# Mistral (`prefix: true` on the last assistant message).
_PREFIX_HOSTS = ("api.deepseek.com", "api.mistral.ai")

# `owned_by` in `/v1/models`, as each server writes it for itself (their own source):
#   vLLM       vllm/entrypoints/openai/protocol.py  ModelCard  owned_by = "vllm"
#   SGLang     sglang/srt/entrypoints/openai/protocol.py  ModelCard  owned_by = "sglang"
#   llama.cpp  tools/server: {"owned_by", "llamacpp"}
# The llama.cpp server also sends `Server: llama.cpp` on every response
# (`set_default_headers({{"Server", "llama.cpp"}})`); vLLM and SGLang answer through uvicorn,
# whose `server: uvicorn` names neither, so for them only the listing tells.
_OWNED_BY: dict[str, ServerKind] = {"vllm": "vllm", "sglang": "sglang", "llamacpp": "llama.cpp"}


def check_setting(value: Any, *, where: str = "continuation") -> Setting:
    """The setting, validated.

    Raises:
        ConfigError: anything but "off", "auto" or "prefill" (one line, naming `where`).
    """
    if value is None:
        return DEFAULT
    if not isinstance(value, str) or value not in SETTINGS:
        raise ConfigError(f"{where} must be one of {', '.join(SETTINGS)}, not {value!r}")
    return value  # type: ignore[return-value]


def server_kind_from(headers: Mapping[str, str] | None, models_body: Mapping[str, Any] | None) -> ServerKind | None:
    """Which known server answered, from a response's headers and/or a `GET /v1/models` body.

    Args:
        headers: any response's headers (names in any case), or None.
        models_body: the decoded `/v1/models` listing, or None.

    Returns:
        "vllm", "sglang", "llama.cpp" or "herald-local"; None when nothing identifies one of them.
    """
    for name, value in (headers or {}).items():
        if name.lower() != "server":
            continue
        for said in value.lower().split(","):  # two Server headers arrive joined by a comma
            said = said.strip()
            if said.startswith("llama.cpp"):
                return "llama.cpp"
            if said.startswith(LOCAL_SERVER):
                return LOCAL_SERVER
    data = models_body.get("data") if isinstance(models_body, Mapping) else None
    if isinstance(data, list):
        for model in data:
            owner = model.get("owned_by") if isinstance(model, Mapping) else None
            if isinstance(owner, str) and owner.strip().lower() in _OWNED_BY:
                return _OWNED_BY[owner.strip().lower()]
    return None


def listing_may_tell(headers: Mapping[str, str] | None) -> bool:
    """Whether a server that named no known kind in its headers may still be one its `/v1/models`
    listing names: it answers through uvicorn, as vLLM and SGLang do (a cheap filter: the hosted
    APIs, behind their own front ends, are never asked for a listing)."""
    return any(name.lower() == "server" and "uvicorn" in value.lower() for name, value in (headers or {}).items())


def continuation_enabled(setting: Setting, *, base_url: str, api_mode: str, server_kind: str | None) -> bool:
    """Whether to continue a cut answer on this provider rather than restart it.

    "off": never. "prefill": always (where the wire has a convention). "auto": only where Herald
    knows the server supports it: a server identified as vLLM, SGLang or llama.cpp, the bundled
    local model's, and the DeepSeek and Mistral APIs.
    """
    if setting == "off" or api_mode == "codex_responses":
        return False
    if setting == "prefill":
        return True
    if api_mode != "chat_completions":
        return False  # Anthropic: newer models reject prefill; "prefill" opts in
    if server_kind in KNOWN_SERVERS:
        return True
    host = (urlparse(base_url).hostname or "").lower()
    return any(host == known or host.endswith("." + known) for known in _PREFIX_HOSTS)


@dataclass(frozen=True)
class Cut:
    """What a broken stream had delivered, as far as continuing it matters.

    Attributes:
        text: the answer text consumers were shown.
        tool_call: a tool call had begun (its arguments may be cut): never continued.
        reasoning: reasoning text had streamed (on Anthropic it is a signed block: never continued).
    """

    text: str
    tool_call: bool = False
    reasoning: bool = False


def continuation_request(
    api_mode: str, api_kwargs: dict[str, Any], partial_text: str, *, reasoning: str | None = None, tool_call: bool = False
) -> dict[str, Any] | None:
    """The wire-native request that continues `partial_text`, or None to restart instead.

    Args:
        api_mode: the provider's wire.
        api_kwargs: the request whose answer was cut (neutral kwargs, `Wire.build_kwargs`).
        partial_text: the answer text delivered before the cut.
        reasoning: reasoning that streamed before the cut, if any. On Anthropic it belongs to a
            signed thinking block that cannot be sent back without its signature: None.
        tool_call: the cut came after a tool call began: None (a partial call is never sent back).

    Returns:
        A new kwargs dict (the input is not changed), or None: nothing to continue (no text),
        a tool call, signed reasoning, or a wire without a convention (Responses).
    """
    if tool_call or not partial_text.strip():
        return None
    messages = api_kwargs.get("messages")
    if not isinstance(messages, list):
        return None
    if api_mode == "chat_completions":
        prefix = {"role": "assistant", "content": partial_text, "prefix": True}
        body = {**api_kwargs.get("extra_body", {}), "continue_final_message": True, "add_generation_prompt": False}
        return {**api_kwargs, "messages": [*messages, prefix], "extra_body": body}
    if api_mode == "anthropic_messages":
        if reasoning:
            return None
        # "final assistant content cannot end with trailing whitespace" (Anthropic's 400).
        prefill = {"role": "assistant", "content": [{"type": "text", "text": partial_text.rstrip()}]}
        return {**api_kwargs, "messages": [*messages, prefill]}
    return None


@dataclass(frozen=True)
class LengthAllowance:
    """How far one call may continue an answer the length limit cut (`finish_reason` "length").

    Attributes:
        continuations: at most this many continuations (0: the answer is returned as it stopped).
        output_tokens: no further continuation once the call's answers used this many completion
            tokens (None: no bound; the agent's turn limit `max_output_tokens` sets it).
    """

    continuations: int = 0
    output_tokens: int | None = None


MAX_CONTINUATIONS = 3
"""Continuations of one call's answer at most (each cut again after new text may be continued)."""


@dataclass
class ContinuationState:
    """One call's continuation, for the planner: what consumers have on screen, and the request continuing it.

    Attributes:
        cut: what the last broken stream left on screen (None before any).
        active: the next stream continues `cut` with `kwargs`.
        count: continuations started in this call (of a broken stream, or of an answer cut by the
            length limit).
        length_left: continuations of an answer cut by the length limit still allowed in this call.
        kwargs: the continuation request.
        sent: the prefix as `kwargs` carry it (see `sent_prefix`).
    """

    cut: Cut | None = None
    active: bool = False
    count: int = 0
    length_left: int = 0
    kwargs: dict[str, Any] = field(default_factory=dict)
    sent: str = ""

    def shown(self, cut: Cut, *, continued: bool) -> None:
        """A stream broke having shown `cut`; after the text it `continued`, if it was a continuation."""
        if continued and self.cut is not None:
            cut = Cut(self.cut.text + cut.text, tool_call=cut.tool_call, reasoning=self.cut.reasoning or cut.reasoning)
        self.cut = cut

    def start(self, api_mode: str, request: dict[str, Any], *, bounded: bool = True) -> bool:
        """Make the next stream a continuation of what is shown; False when it cannot be one.
        `bounded`: at most `MAX_CONTINUATIONS` (a broken stream's); the length limit's has its own."""
        cut = self.cut
        if cut is None or (bounded and self.count >= MAX_CONTINUATIONS):
            return False
        kwargs = continuation_request(api_mode, request, cut.text, reasoning="…" if cut.reasoning else None, tool_call=cut.tool_call)
        if kwargs is None:
            return False
        self.active, self.kwargs, self.sent = True, kwargs, sent_prefix(api_mode, cut.text)
        self.count += 1
        return True

    def length_cut(self, response: Any, allowance: LengthAllowance) -> bool:
        """Whether `response` (an `LLMResponse`) stopped at the length limit, without a tool call, and
        the call may still continue it (count and tokens, `allowance`)."""
        if response.finish_reason != "length" or response.message.tool_calls or self.length_left <= 0:
            return False
        budget, usage = allowance.output_tokens, response.usage
        return budget is None or (usage is not None and usage.completion_tokens < budget)

    def after_length(self, api_mode: str, request: dict[str, Any], text: str, *, reasoning: bool) -> bool:
        """An answer (`text`, all of it so far) stopped at the length limit: make the next request
        continue it, as a broken stream's is; False when it cannot be continued."""
        self.cut = Cut(text, reasoning=reasoning)
        if not self.start(api_mode, request, bounded=False):
            return False
        self.length_left -= 1
        return True

    def answer(self, continuation: str) -> str:
        """The whole answer: what was shown, joined with the continuation's text."""
        return join(self.cut.text if self.cut is not None else "", continuation, sent=self.sent)


def sent_prefix(api_mode: str, partial_text: str) -> str:
    """The prefix the continuation request carries for `partial_text` (Anthropic strips trailing whitespace)."""
    return partial_text.rstrip() if api_mode == "anthropic_messages" else partial_text


_REFUSALS = (
    "prefill",
    "continue_final_message",
    "add_generation_prompt",
    "prefix",
    "final assistant content",
)


def refuses_continuation(error: BaseException) -> bool:
    """A 400 (or 422) that is about the continuation itself: prefill, the flags, or `prefix`.

    Newer Claude models: "This model does not support assistant message prefill…"; vLLM:
    "continue_final_message and add_generation_prompt cannot both be true" or "…final message
    must be from the assistant"; DeepSeek / Mistral: about `prefix`.
    """
    if not isinstance(error, ProviderError) or error.status not in (400, 422):
        return False
    text = f"{error} {error.provider_message or ''}".lower()
    return any(word in text for word in _REFUSALS)


class SeamFilter:
    """Passes a continuation's text on, dropping an echo of the prefix: sans-IO, fed as it streams.

    A provider that echoes the prefix sends it again as the continuation's start; anything
    else is new text, even when it happens to repeat the prefix's last characters (a model may
    well write "the the"). So text is held back only while it matches the start of the prefix;
    the whole prefix arriving is the echo (dropped); a divergence releases what was held.

    Trailing whitespace the request could not carry (Anthropic's prefill) was shown already:
    the same whitespace at the continuation's start is dropped once.

        seam = SeamFilter("Hello wor", sent="Hello wor")
        seam.feed("ld") + seam.finish()   # "ld"
    """

    def __init__(self, shown: str, *, sent: str | None = None) -> None:
        sent = shown if sent is None else sent
        self._echo = shown
        self._tail = shown[len(sent) :] if shown.startswith(sent) else ""
        self._held = ""
        self._state: Literal["echo", "tail", "pass"] = "echo" if shown else "pass"

    def feed(self, text: str) -> str:
        """Text to deliver now (perhaps less than `text`; held text follows later)."""
        if self._state == "pass":
            return text
        self._held += text
        if self._state == "echo":
            if self._held.startswith(self._echo):
                self._held = self._held[len(self._echo) :]
                self._state = "pass"
                return self._release()
            if self._echo.startswith(self._held):
                return ""
            self._state = "tail"
        if self._state == "tail":
            if self._tail and self._tail.startswith(self._held) and len(self._held) < len(self._tail):
                return ""
            if self._tail and self._held.startswith(self._tail):
                self._held = self._held[len(self._tail) :]
            self._state = "pass"
        return self._release()

    def finish(self) -> str:
        """What is still held (the stream ended): it was new text after all."""
        self._state = "pass"
        return self._release()

    def _release(self) -> str:
        held, self._held = self._held, ""
        return held


def join(partial: str, continuation: str, *, sent: str | None = None) -> str:
    """The whole answer: `partial` (what was shown) and `continuation` (what the provider sent
    after it), with only a demonstrable echo removed (see `SeamFilter`)."""
    seam = SeamFilter(partial, sent=sent)
    return partial + seam.feed(continuation) + seam.finish()


__all__ = [
    "ContinuationState",
    "Cut",
    "DEFAULT",
    "KNOWN_SERVERS",
    "LOCAL_SERVER",
    "LengthAllowance",
    "MAX_CONTINUATIONS",
    "SETTINGS",
    "SeamFilter",
    "ServerKind",
    "Setting",
    "check_setting",
    "continuation_enabled",
    "continuation_request",
    "join",
    "listing_may_tell",
    "refuses_continuation",
    "sent_prefix",
    "server_kind_from",
]
