"""How one API family is spoken: the `Wire` protocol (chat completions, Responses, Anthropic Messages).

Everything above the wires (the planner, the callers, the clients) knows a wire only through this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Generator, Iterable, Mapping, Protocol

if TYPE_CHECKING:
    from herald.llm.accumulate import StreamAccumulator
    from herald.llm.sink import DeltaSink
    from herald.llm.stream_loop import StreamReader
    from herald.llm.types import LLMResponse


@dataclass(frozen=True)
class SendPlain:
    """Call the wire's plain `create` with these arguments; send back what it returned."""

    kwargs: dict[str, Any]


@dataclass(frozen=True)
class ReadBuffered:
    """Stream these arguments to the end, delivering nothing; send back the answer."""

    kwargs: dict[str, Any]


PlainStep = SendPlain | ReadBuffered
PlainSteps = Generator[PlainStep, Any, "LLMResponse"]


def add_body_fields(kwargs: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` added to a request's JSON body as they are, on any wire: through the SDKs'
    `extra_body`, since each SDK's `create` takes only the parameters it knows (the anthropic
    SDK no longer takes `temperature`, for one)."""
    if fields:
        kwargs["extra_body"] = {**kwargs.get("extra_body", {}), **fields}
    return kwargs


OnHeaders = Callable[[Mapping[str, str]], object]
"""Receives a response's headers (the owner learns which server answers: `herald.llm.continuation`)."""


class Wire(Protocol):
    """How one API family is spoken. See `openai_chat.ChatCompletionsWire`."""

    mode: str
    supports_stream_options: bool
    stream_path: str
    """The path a stream is POSTed to, below the client's base URL (the awaited path's lean request)."""

    def build_kwargs(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """Native request kwargs from chat-format history and tools (see `herald.llm.history`)."""
        ...

    def stream_kwargs(self, api_kwargs: dict[str, Any], *, stream_options: bool) -> dict[str, Any]: ...

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]: ...

    def reader(self, acc: StreamAccumulator, sink: DeltaSink) -> StreamReader:
        """This wire's pure reader of decoded events, feeding `acc` and `sink`."""
        ...

    def open_raw(self, client: Any, kwargs: dict[str, Any]) -> Any:
        """The raw fast path: the SDK's `with_streaming_response` context manager (sync or async client)."""
        ...

    def open_objects(self, client: Any, kwargs: dict[str, Any]) -> ContextManager[Iterable[Any]]:
        """The object path, for clients that are not SDK clients: a context manager over event objects."""
        ...

    def send_plain(self, client: Any, kwargs: dict[str, Any], *, raw: bool = False) -> Any:
        """The SDK's plain `create` call: its answer, or a coroutine of it on an async client. With
        `raw`, the SDK's raw response instead (`with_raw_response`: its `headers`, and `parse()`)."""
        ...

    def request_steps(self, kwargs: dict[str, Any]) -> PlainSteps:
        """This wire's plain request as sans-IO steps (see `herald.llm.plain`)."""
        ...

    def request(self, client: Any, kwargs: dict[str, Any], *, on_headers: OnHeaders | None = None) -> LLMResponse:
        """The plain request on a sync client (`plain.request`); `on_headers` receives its response headers."""
        ...


__all__ = ["OnHeaders", "PlainStep", "PlainSteps", "ReadBuffered", "SendPlain", "Wire", "add_body_fields"]
