"""One model call's attempts along the provider chain, as the agent runs them.

The chain (`herald.llm.failover`) decides which provider and key come next; this runs an
attempt: the primary through the agent's seams, a fallback through its own call path, each
with its own request built once from the same history. Text a failed provider had shown is
void: the consumers are reset before the next provider delivers anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from herald.llm.failover import Attempt
from herald.llm.types import LLMResponse

if TYPE_CHECKING:
    from herald.agent.core import AIAgent


class ProviderAttempts:
    """Runs the attempts of one model call (`run` is the driver's callback)."""

    def __init__(
        self, agent: AIAgent, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]], *, streaming: bool
    ) -> None:
        self._agent = agent
        self._requests: dict[int, dict[str, Any]] = {0: api_kwargs}
        self._system_prompt = system_prompt
        self._messages = messages
        self._streaming = streaming
        self._void_text_shown = False
        """A failed provider's text is on the consumers' screens."""

    def run(self, attempt: Attempt) -> LLMResponse:
        agent = self._agent
        fallback = agent._fallbacks[attempt.provider - 1] if attempt.provider else None
        if fallback is None:
            agent._primary_key = attempt.key
        else:
            fallback.key = attempt.key
        kwargs = self._request(attempt.provider)
        if not self._streaming:
            return fallback.request(kwargs) if fallback else agent._normalize(agent._interruptible_api_call(kwargs))
        sink = agent._make_sink(None)
        if self._void_text_shown:
            sink.reset()
            self._void_text_shown = False
        try:
            return fallback.stream(kwargs, sink) if fallback else agent._llm.stream(kwargs, sink)
        except BaseException:
            sink.abandon()  # nothing more from this provider reaches anyone
            self._void_text_shown = sink.delivered
            raise

    def _request(self, provider: int) -> dict[str, Any]:
        """The provider's request, built from the history on its first attempt (its wire, its model)."""
        if provider not in self._requests:
            fallback = self._agent._fallbacks[provider - 1]
            self._requests[provider] = self._agent._build_api_kwargs(
                self._system_prompt, self._messages, wire=fallback.wire, model=fallback.settings.model
            )
        return self._requests[provider]
