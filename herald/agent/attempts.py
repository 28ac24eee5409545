"""The retry-once when the provider says the history does not fit, shared by both agents.

Everything else about a model call's attempts is the client's attempt planner's
(`herald.llm.planner`); this sits above it, because fitting the history is the agent's.
"""

from __future__ import annotations

from typing import Any, Callable, Generator

from herald.errors import ProviderError
from herald.llm.types import LLMResponse


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
