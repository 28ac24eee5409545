"""One call's continuations, decided for the attempt planner (`herald.llm.planner`). Sans-IO.

Whether a cut answer, or one the length limit stopped, is continued on its provider (its
setting, its server, what the endpoint taught), with which request (`herald.llm.continuation`),
and when a cut is worth reading the provider's `/v1/models` listing first (to learn the server:
once per endpoint, only where the headers leave it open).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from herald.llm.classify import classify
from herald.llm.continuation import ContinuationState, LengthAllowance
from herald.llm.fallback import StreamSupport, StreamSupportMemory
from herald.llm.types import LLMResponse
from herald.llm.wire import Wire

log = logging.getLogger("herald.llm")


@dataclass
class CallContinuation(ContinuationState):
    """`ContinuationState` (what is on screen, the request continuing it) with the call's providers.

    Attributes:
        wires / request_for / memory: the call's (`CallSetup`).
        base_url: a provider's base URL, by position.
        continues: whether a provider continues a cut answer now (None: none does).
        could_continue: whether it would, once its server is known to (None: none would).
        length: how far an answer the length limit stopped is continued.
        answered: that answer, while its continuation is asked for.
    """

    wires: Sequence[Wire] = ()
    request_for: Callable[[int], dict[str, Any]] = lambda provider: {}
    memory: StreamSupportMemory = field(default_factory=StreamSupportMemory)
    base_url: Callable[[int], str] = lambda provider: ""
    continues: Callable[[int], bool] | None = None
    could_continue: Callable[[int], bool] | None = None
    length: LengthAllowance = field(default_factory=LengthAllowance)
    answered: LLMResponse | None = None

    def __post_init__(self) -> None:
        self.length_left = self.length.continuations

    def support(self, provider: int) -> StreamSupport:
        """What provider number `provider`'s endpoint taught (its request's model)."""
        return self.memory.get(self.base_url(provider), str(self.request_for(provider).get("model", "")))

    def request(self, provider: int) -> dict[str, Any] | None:
        """The provider's request, if it continues a cut answer (its setting, its server, what it taught)."""
        if self.continues is None or not self.continues(provider):
            return None
        return self.request_for(provider) if self.support(provider).continuation else None

    def after_cut(self, provider: int) -> bool:
        """Continue the shown answer on this provider next, if it can be; False: restart as before."""
        request = self.request(provider)
        return request is not None and self.start(self.wires[provider].mode, request)

    def after_answer(self, provider: int, response: LLMResponse, *, replayed: bool) -> bool:
        """The answer stopped at the length limit: continue it on this provider next, as allowed (the
        count, the tokens, the provider); False: it is the call's answer. A plain answer `replayed` to
        consumers is not continued in place."""
        message = response.message
        if replayed or not self.length_cut(response, self.length):
            return False
        request = self.request(provider)
        text, reasoning = message.content or "", bool(message.reasoning_content)
        if request is None or not self.after_length(self.wires[provider].mode, request, text, reasoning=reasoning):
            return False
        self.answered = response
        return True

    def worth_listing(self, provider: int, *, error: BaseException | None = None, response: LLMResponse | None = None) -> bool:
        """A stream broke (`error`) with answer text shown, or an answer (`response`) stopped at the
        length limit, on a provider that would continue it if its server were known to, whose server
        its listing may name, not read yet."""
        if response is not None:
            if not self.length_cut(response, self.length) or not (response.message.content or "").strip():
                return False
        elif error is None or classify(error, streaming=True) not in ("stream_failed", "stalled"):
            return False
        elif self.cut is None or not self.cut.text.strip() or self.cut.tool_call:
            return False
        if self.could_continue is None or not self.could_continue(provider) or self.request(provider) is not None:
            return False
        return self.memory.wants_listing(self.base_url(provider))

    def refused(self, provider: int) -> None:
        """The provider refused to continue (a 400 about prefill or the flags): never again from this endpoint."""
        self.support(provider).continuation = False


__all__ = ["CallContinuation"]
