"""One conversation of an `AsyncAIAgent`: its model calls, its tools, its events. Lives for one call.

Its model calls make the sync agent's decisions, with the same code: the request is sent again
once when the provider says the history does not fit (`attempts.retry_on_overflow`), and the
client's attempt planner (`herald.llm.planner`) decides every request of a call. Only the
requests are awaited, on the clients the conversation leased for this event loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from herald.agent.async_tools import blocking_approval
from herald.agent.attempts import retry_on_overflow
from herald.agent.events import ContinuedEvent, ReasoningEvent, ResetEvent, StreamEvent, TextEvent
from herald.agent.loop import ToolProgress, report_tool
from herald.llm.continuation import LengthAllowance
from herald.llm.records import AttemptRecord
from herald.llm.sink import DeltaSink
from herald.llm.steps import arun_steps
from herald.llm.types import LLMResponse
from herald.tools.base import ToolResult

if TYPE_CHECKING:
    from herald.agent.async_tools import AsyncToolRunner
    from herald.agent.base import AgentCore
    from herald.agent.settings import Callbacks
    from herald.client import AsyncClient, AsyncClients

log = logging.getLogger("herald.agent")

Emit = Callable[[StreamEvent], None]


@dataclass(frozen=True)
class ConversationHooks:
    """What the owning agent is told of each model call (a subclass, e.g. the batch's, listens)."""

    model_answered: Callable[[LLMResponse], object]
    model_cut_short: Callable[[], object]
    attempt_ended: Callable[[AttemptRecord], object]


class Conversation:
    """One conversation's I/O, for the loop's `AsyncPorts`.

    Args:
        core: the agent's I/O-free side (settings, tools, prompt, requests).
        client: the awaited transport (shared by every conversation of the agent).
        tools: the agent's tool runner.
        hooks: what the agent is told of each model call.
        clients: this event loop's clients, one per provider and key.
        system_prompt: the turn's system prompt.
        emit: where `stream()` events go (None for `run_conversation`).
        callbacks: the agent's callbacks.
    """

    def __init__(
        self,
        core: AgentCore,
        client: AsyncClient,
        tools: AsyncToolRunner,
        hooks: ConversationHooks,
        clients: AsyncClients,
        system_prompt: str,
        emit: Emit | None,
        callbacks: Callbacks,
    ) -> None:
        self._core = core
        self._callbacks = callbacks
        self._client = client
        self._tools = tools
        self._hooks = hooks
        self._clients = clients
        self._system_prompt = system_prompt
        self._emit = emit
        self._partial: LLMResponse | None = None
        self.attempts: list[AttemptRecord] = []
        """Every request of the conversation's model calls, in order."""
        self.stopped = False
        """True once the conversation was cancelled: tools still running on a worker see it and stop."""
        callback = callbacks.approval
        loop = asyncio.get_running_loop()
        self._tool_ctx = core.tool_context(
            blocking_approval(callback, loop) if callback is not None else None, is_interrupted=lambda: self.stopped
        )

    def stop(self) -> None:
        """Tell the tools still running on a worker thread to stop (a limit ended the turn)."""
        self.stopped = True

    # ── the model ───────────────────────────────────────────────────────

    def build_request(self, messages: list[dict[str, Any]], provider: int = 0) -> dict[str, Any]:
        """The request of `messages` for provider number `provider` (the primary by default)."""
        client = self._client
        return self._core.build_request(
            self._system_prompt, messages, wire=client.wires[provider], model=client.providers[provider].model
        )

    async def call_model(
        self, api_kwargs: dict[str, Any], messages: list[dict[str, Any]], length: LengthAllowance | None = None
    ) -> LLMResponse:
        """One model call of the loop, as `AIAgent._call_model` makes it; `extras["answered_by"]` says who answered."""
        steps = retry_on_overflow(api_kwargs, rebuild=lambda: self.build_request(messages), learn=self._core.learn_overflow)
        try:
            response = await arun_steps(steps, lambda kwargs: self._call_providers(kwargs, messages, length))
        except asyncio.CancelledError:
            self._hooks.model_cut_short()
            raise
        self._hooks.model_answered(response)
        return response

    async def _call_providers(
        self, api_kwargs: dict[str, Any], messages: list[dict[str, Any]], length: LengthAllowance | None = None
    ) -> LLMResponse:
        client = self._client
        requests = {0: api_kwargs}

        def request_for(provider: int) -> dict[str, Any]:
            if provider not in requests:
                requests[provider] = self.build_request(messages, provider)
            return requests[provider]

        callbacks = self._callbacks
        streaming = self._emit is not None or callbacks.stream_delta is not None or callbacks.reasoning is not None
        setup = client.call_setup(request_for, make_sink=self._sink if streaming else None, on_attempt=self._attempt_ended, length=length)
        return await client.run(setup, self._clients, on_cancel=self._keep_partial)

    def _attempt_ended(self, record: AttemptRecord) -> None:
        self.attempts.append(record)
        self._hooks.attempt_ended(record)

    def take_partial(self) -> LLMResponse | None:
        """What the model call that was just cancelled had received (tool calls dropped), once."""
        partial, self._partial = self._partial, None
        return partial

    def _keep_partial(self, partial: LLMResponse) -> None:
        self._partial = partial

    def _sink(self) -> DeltaSink:
        callbacks, emit = self._callbacks, self._emit
        texts: list[Callable[[str], object]] = [callbacks.stream_delta] if callbacks.stream_delta is not None else []
        reasoning: list[Callable[[str], object]] = [callbacks.reasoning] if callbacks.reasoning is not None else []
        resets: list[Callable[[], object]] = [callbacks.stream_reset] if callbacks.stream_reset is not None else []
        continued: list[Callable[[], object]] = [callbacks.stream_continued] if callbacks.stream_continued is not None else []
        if emit is not None:
            texts.append(lambda text: emit(TextEvent(text)))
            reasoning.append(lambda text: emit(ReasoningEvent(text)))
            resets.append(lambda: emit(ResetEvent()))
            continued.append(lambda: emit(ContinuedEvent()))
        return DeltaSink(
            text_callbacks=texts,
            reasoning_callback=_fan_out(reasoning) if reasoning else None,
            reset_callback=_fan_out(resets) if resets else None,
            continued_callback=_fan_out(continued) if continued else None,
        )

    # ── tools ───────────────────────────────────────────────────────────

    async def execute_tool(self, name: str, raw_arguments: str) -> ToolResult:
        return await self._tools.run(name, raw_arguments, self._tool_ctx)

    def report(self, progress: ToolProgress) -> None:
        """Progress to the agent's `tool_progress_callback`, and as events to `stream()`."""
        report_tool(self._callbacks.tool_progress, progress)
        if self._emit is None:
            return
        self._emit(progress.as_event())


def _fan_out(callbacks: list[Callable[..., object]]) -> Callable[..., None]:
    """One callback for the sink that calls each, so one consumer's bug never starves another."""

    def call_all(*args: object) -> None:
        for callback in callbacks:
            try:
                callback(*args)
            except Exception:
                log.debug("stream consumer %r raised; ignored", callback, exc_info=True)

    return call_all
