"""`AsyncAIAgent`: one instance, many concurrent conversations, on asyncio.

Everything that is not I/O is the sync agent's: configuration, tools, the system prompt,
sessions, request building, the conversation loop's core. Only the waiting differs (httpx's
`Client` / `AsyncClient` split): model calls are awaited over one shared aiohttp-backed SDK
client per event loop, tools run in a bounded thread pool, and cancelling a task is the interrupt.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, AsyncIterator, Callable

from herald.agent.async_tools import DEFAULT_TOOL_TIMEOUT, DEFAULT_TOOL_WORKERS, AsyncToolRunner, blocking_approval
from herald.agent.core import AIAgent
from herald.agent.events import (
    DoneEvent,
    ReasoningEvent,
    ResetEvent,
    StreamEvent,
    TextEvent,
    ToolFinishedEvent,
    ToolStartedEvent,
)
from herald.agent.loop import AsyncPorts, ToolProgress, run_async
from herald.agent.result import TurnResult
from herald.errors import ConfigError, HeraldError
from herald.llm.async_caller import AsyncLLMCaller
from herald.llm.async_clients import ClientPool, make_async_anthropic_client, make_async_openai_client
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse
from herald.tools.approval import ApprovalGate
from herald.tools.base import ToolContext

log = logging.getLogger("herald.agent")

Emit = Callable[[StreamEvent], None]


class AsyncAIAgent:
    """The async agent: `await agent.run_conversation(…)`, `async for event in agent.stream(…)`.

    Takes every argument `AIAgent` takes, with the same meaning, plus:

    Args:
        max_concurrency: most conversations running at once on this instance (the rest wait
            their turn); None, the default, sets no limit. The connection pool is sized for it:
            exactly this many connections, or unlimited when None, never a library default.
        tool_workers: threads for blocking tools, shared by all conversations.
        tool_timeout: seconds one tool call may run before it is stopped and answered with an error.

    Each call is its own conversation: its own history and session row, sharing the instance's
    connection pool and what it learned about the endpoint (stream support, `stream_options`).
    Use `async with AsyncAIAgent(…) as agent:` to keep the pool open between calls; without it
    the pool closes whenever no conversation is running, so nothing is ever left open.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        max_concurrency: int | None = None,
        tool_workers: int = DEFAULT_TOOL_WORKERS,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        **options: Any,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be at least 1 (or None for no limit), got {max_concurrency}")
        self._base = AIAgent(model, **options)
        self.max_concurrency = max_concurrency
        self._limits: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._tools = AsyncToolRunner(
            lambda name, raw, ctx: self._base.tools.execute(name, raw, ctx), workers=tool_workers, timeout=tool_timeout
        )
        self._pool = ClientPool(self._make_client)
        self._llm = AsyncLLMCaller(
            wire=self._base._wire,
            endpoint=lambda: (self._base.endpoint.base_url, self._base.endpoint.host),
            secrets=lambda: self._base._secrets(),
            timeouts=self._base._llm.timeouts,
            retry=self._base._llm.retry,
            memory=self._base._llm.memory,
            request_timeout=self._base.request_timeout,
        )

    # ── configuration (the sync agent's) ────────────────────────────────

    @property
    def model(self) -> str:
        return self._base.model

    @property
    def api_mode(self) -> str:
        return self._base.api_mode

    @property
    def base_url(self) -> str:
        return self._base.base_url

    @property
    def endpoint(self) -> Any:
        """Where requests go (the key is inside: never log this object's fields)."""
        return self._base.endpoint

    @property
    def session_store(self) -> Any:
        """The session database (None when not persisting)."""
        return self._base.session_store

    # ── lifetime ────────────────────────────────────────────────────────

    async def __aenter__(self) -> AsyncAIAgent:
        self._pool.hold()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close this loop's connection pool once its conversations end (they keep working after)."""
        await self._pool.release()

    # ── conversations ───────────────────────────────────────────────────

    async def run_conversation(
        self,
        user_message: str,
        system_message: str | None = None,
        conversation_history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Run one user turn to its end; the same dict as `AIAgent.run_conversation`.

        Cancelling the task interrupts it: the partial answer is kept in the history and the
        session (marked interrupted), no half-streamed tool call runs, the request's connection
        is closed, and the cancellation propagates.
        """
        return (await self.run_turn(user_message, system_message, conversation_history)).as_dict()

    async def run_turn(
        self,
        user_message: str,
        system_message: str | None = None,
        conversation_history: list[dict[str, Any]] | None = None,
    ) -> TurnResult:
        """`run_conversation`, returning the typed `TurnResult`."""
        return await self._converse(user_message, system_message, conversation_history, emit=None)

    async def stream(
        self,
        user_message: str,
        system_message: str | None = None,
        conversation_history: list[dict[str, Any]] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """The turn as typed events: text, reasoning, reset, tool_started, tool_finished, then done.

        Leaving the `async for` early (or cancelling the consuming task) interrupts the turn,
        as cancelling `run_conversation` does. Wrap it in `contextlib.aclosing` to have that
        happen at once rather than when the iterator is collected.
        """
        queue: asyncio.Queue[StreamEvent | _Failure] = asyncio.Queue()

        async def produce() -> None:
            try:
                turn = await self._converse(user_message, system_message, conversation_history, emit=queue.put_nowait)
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # handed to the consumer, raised there
                queue.put_nowait(_Failure(error))
                return
            queue.put_nowait(DoneEvent(turn, turn.as_dict()))

        producer = asyncio.create_task(produce())
        try:
            while True:
                event = await queue.get()
                if isinstance(event, _Failure):
                    raise event.error
                yield event
                if event.kind == "done":
                    return
        finally:
            if not producer.done():
                producer.cancel()
                with suppress(asyncio.CancelledError):
                    await producer

    # ── one conversation ────────────────────────────────────────────────

    async def _converse(
        self,
        user_message: str,
        system_message: str | None,
        conversation_history: list[dict[str, Any]] | None,
        *,
        emit: Emit | None,
    ) -> TurnResult:
        history = list(conversation_history or [])
        base = self._base
        try:
            system_prompt = base._system_prompt(system_message)
            session_id = self._new_session(user_message)
        except HeraldError as error:
            return TurnResult("failed", None, history, error=error, error_message=str(error))
        async with AsyncExitStack() as stack:
            if self.max_concurrency is not None:
                await stack.enter_async_context(self._limit())
            client = await stack.enter_async_context(self._pool.lease())
            conversation = _Conversation(self, client, emit)
            ports = AsyncPorts(
                build_request=lambda messages: base._build_api_kwargs(system_prompt, messages),
                call_model=conversation.call_model,
                execute_tool=conversation.execute_tool,
                cancelled_partial=conversation.take_partial,
                persist=lambda message: self._persist(session_id, message),
                is_interrupted=lambda: conversation.stopped,
                tool_is_read_only=lambda name, raw: base._tool_is_read_only(name, raw),
                tool_preview=lambda name, raw: base._tool_preview(name, raw),
                report_progress=conversation.report,
                secrets=lambda: base._secrets(),
            )
            try:
                return await run_async(
                    ports,
                    history,
                    user_message,
                    max_iterations=base.max_iterations,
                    max_continuations=base.max_continuations,
                )
            except asyncio.CancelledError:
                conversation.stopped = True  # tools still running on a worker see it and stop
                raise
        raise AssertionError("unreachable")  # mypy: the exit stack does not swallow exceptions

    def _limit(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._limits:
            assert self.max_concurrency is not None
            self._limits[loop] = asyncio.Semaphore(self.max_concurrency)
        return self._limits[loop]

    def _new_session(self, first_message: str) -> str | None:
        store = self._base.session_store
        if store is None:
            return None
        base = self._base
        return store.create_session(model=base.model, base_url=base.endpoint.base_url, cwd=str(base.cwd), title=first_message)

    def _persist(self, session_id: str | None, message: dict[str, Any]) -> None:
        store = self._base.session_store
        if store is not None and session_id is not None:
            store.append_message(session_id, message)

    def _make_client(self) -> Any:
        base = self._base
        make = make_async_anthropic_client if base.api_mode == "anthropic_messages" else make_async_openai_client
        return make(base.endpoint, timeout=base.request_timeout, max_connections=self.max_concurrency)


@dataclass
class _Failure:
    error: BaseException


class _Conversation:
    """One conversation's I/O: its model calls, its tools, its events. Lives for one call."""

    def __init__(self, agent: AsyncAIAgent, client: Any, emit: Emit | None) -> None:
        self._agent = agent
        self._base = agent._base
        self._client = client
        self._emit = emit
        self._partial: LLMResponse | None = None
        self.stopped = False
        loop = asyncio.get_running_loop()
        callback = self._base.approval_callback
        gate = ApprovalGate(blocking_approval(callback, loop) if callback is not None else None, yolo=self._base.yolo)
        self._tool_ctx = ToolContext(
            cwd=self._base.cwd, approval=gate, memory=self._base._memory_store(), is_interrupted=lambda: self.stopped
        )

    # ── the model ───────────────────────────────────────────────────────

    async def call_model(self, api_kwargs: dict[str, Any], messages: list[dict[str, Any]]) -> LLMResponse:
        # Failover to other providers (the sync agent's `_call_model`) is not wired here yet:
        # the primary answers, or its error ends the turn.
        llm = self._agent._llm
        if self._streams():
            response = await llm.stream(self._client, api_kwargs, self._sink(), on_cancel=self._keep_partial)
        else:
            response = await llm.request(self._client, api_kwargs)
        response.extras["answered_by"] = {"model": self._base.model, "base_url": self._base.base_url, "skipped": []}
        return response

    def take_partial(self) -> LLMResponse | None:
        partial, self._partial = self._partial, None
        return partial

    def _keep_partial(self, partial: LLMResponse) -> None:
        self._partial = partial

    def _streams(self) -> bool:
        base = self._base
        return self._emit is not None or base._has_stream_consumers()

    def _sink(self) -> DeltaSink:
        base, emit = self._base, self._emit
        texts: list[Callable[[str], object]] = [cb for cb in (base.stream_delta_callback, base._stream_callback) if cb is not None]
        reasoning: list[Callable[[str], object]] = [base.reasoning_callback] if base.reasoning_callback is not None else []
        resets: list[Callable[[], object]] = [base.stream_reset_callback] if base.stream_reset_callback is not None else []
        if emit is not None:
            texts.append(lambda text: emit(TextEvent(text)))
            reasoning.append(lambda text: emit(ReasoningEvent(text)))
            resets.append(lambda: emit(ResetEvent()))
        return DeltaSink(
            text_callbacks=texts,
            reasoning_callback=_fan_out(reasoning) if reasoning else None,
            reset_callback=_fan_out(resets) if resets else None,
        )

    # ── tools ───────────────────────────────────────────────────────────

    async def execute_tool(self, name: str, raw_arguments: str) -> Any:
        return await self._agent._tools.run(name, raw_arguments, self._tool_ctx)

    def report(self, progress: ToolProgress) -> None:
        self._base._report_tool(progress)
        if self._emit is None:
            return
        if progress.kind == "start":
            self._emit(ToolStartedEvent(progress.name, progress.arguments, progress.call_id, progress.preview))
        else:
            self._emit(
                ToolFinishedEvent(
                    progress.name,
                    progress.arguments,
                    progress.call_id,
                    progress.ok,
                    progress.duration,
                    progress.summary,
                    progress.preview,
                )
            )


def _fan_out(callbacks: list[Callable[..., object]]) -> Callable[..., None]:
    """One callback for the sink that calls each, so one consumer's bug never starves another."""

    def call_all(*args: object) -> None:
        for callback in callbacks:
            try:
                callback(*args)
            except Exception:
                log.debug("stream consumer %r raised; ignored", callback, exc_info=True)

    return call_all
