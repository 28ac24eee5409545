"""One model call's attempts along the provider chain, as the agents run them.

The chain (`herald.llm.failover`) decides which provider and key come next; this runs an
attempt: the primary through the agent's seams, a fallback through its own call path, each
with its own request built once from the same history. Text a failed provider had shown is
void: the consumers are reset before the next provider delivers anything.

What an attempt needs besides its I/O (`AttemptRequests`), and the retry-once when the
provider says the history does not fit (`retry_on_overflow`), are shared with the
`AsyncAIAgent`, which performs the same attempts awaited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generator

from herald.errors import ProviderError
from herald.llm.failover import Attempt
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse

if TYPE_CHECKING:
    from herald.agent.core import AIAgent


def retry_on_overflow(
    api_kwargs: dict[str, Any], *, rebuild: Callable[[], dict[str, Any]], learn: Callable[[BaseException], bool]
) -> Generator[dict[str, Any], LLMResponse, LLMResponse]:
    """One model call as sans-IO steps (`herald.llm.steps`): yields the request to send.

    When the provider says the history does not fit (`learn` recognises the error and learns
    the window from it), the request is built again under what it said and sent once more.
    """
    try:
        return (yield api_kwargs)
    except ProviderError as error:
        if not learn(error):
            raise
    return (yield rebuild())


class AttemptRequests:
    """What every attempt of one model call shares, sync or async.

    Args:
        agent: the agent whose history, wires and fallbacks the requests are built from.
        api_kwargs: the primary's request.
        make_sink: a fresh sink for a streamed attempt; None when the call is a plain request.
    """

    def __init__(
        self,
        agent: AIAgent,
        api_kwargs: dict[str, Any],
        system_prompt: str,
        messages: list[dict[str, Any]],
        *,
        make_sink: Callable[[], DeltaSink] | None,
    ) -> None:
        self._agent = agent
        self._requests: dict[int, dict[str, Any]] = {0: api_kwargs}
        self._system_prompt = system_prompt
        self._messages = messages
        self._make_sink = make_sink
        self._void_text_shown = False
        """A failed provider's text is on the consumers' screens."""

    def begin(self, attempt: Attempt) -> tuple[dict[str, Any], DeltaSink | None]:
        """The attempt's request, and its sink (None: a plain request), consumers reset if needed."""
        kwargs = self._request(attempt.provider)
        if self._make_sink is None:
            return kwargs, None
        sink = self._make_sink()
        if self._void_text_shown:
            sink.reset()
            self._void_text_shown = False
        return kwargs, sink

    def failed(self, sink: DeltaSink | None) -> None:
        """The attempt failed (or was interrupted): nothing more from it reaches anyone."""
        if sink is not None:
            sink.abandon()
            self._void_text_shown = self._void_text_shown or sink.delivered

    def _request(self, provider: int) -> dict[str, Any]:
        """The provider's request, built from the history on its first attempt (its wire, its model)."""
        if provider not in self._requests:
            fallback = self._agent._fallbacks[provider - 1]
            self._requests[provider] = self._agent._build_api_kwargs(
                self._system_prompt, self._messages, wire=fallback.wire, model=fallback.settings.model
            )
        return self._requests[provider]


class ProviderAttempts:
    """Runs the attempts of one model call of the sync agent (`run` is the driver's callback)."""

    def __init__(
        self, agent: AIAgent, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]], *, streaming: bool
    ) -> None:
        self._agent = agent
        make_sink = (lambda: agent._make_sink(None)) if streaming else None
        self._requests = AttemptRequests(agent, api_kwargs, system_prompt, messages, make_sink=make_sink)

    def run(self, attempt: Attempt) -> LLMResponse:
        agent = self._agent
        fallback = agent._fallbacks[attempt.provider - 1] if attempt.provider else None
        if fallback is None:
            agent._primary_key = attempt.key
        else:
            fallback.key = attempt.key
        kwargs, sink = self._requests.begin(attempt)
        try:
            if sink is None:
                return fallback.request(kwargs) if fallback else agent._normalize(agent._interruptible_api_call(kwargs))
            return fallback.stream(kwargs, sink) if fallback else agent._llm.stream(kwargs, sink)
        except BaseException:
            self._requests.failed(sink)
            raise
