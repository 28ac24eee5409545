"""`AsyncAIAgent`: one instance, many concurrent conversations, on asyncio.

Everything that is not I/O is the sync agent's: configuration, tools, the system prompt,
sessions, request building, the conversation loop's core. Only the waiting differs (httpx's
`Client` / `AsyncClient` split): model calls are awaited over one shared aiohttp-backed SDK
client per event loop, tools run in a bounded thread pool, and cancelling a task is the interrupt.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, AsyncIterator

from herald.agent.async_conversation import Conversation, ConversationHooks, Emit
from herald.agent.async_tools import DEFAULT_TOOL_TIMEOUT, DEFAULT_TOOL_WORKERS, AsyncToolRunner
from herald.agent.core import AIAgent
from herald.agent.events import DoneEvent, StreamEvent
from herald.agent.loop import AsyncPorts, run_async
from herald.agent.result import TurnResult
from herald.errors import ConfigError, HeraldError
from herald.client import AsyncClient

log = logging.getLogger("herald.agent")


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
        """The sync agent: everything that is not I/O (settings, tools, prompt, sessions, requests, chain)."""
        self.max_concurrency = max_concurrency
        self._tools = AsyncToolRunner(
            lambda name, raw, ctx: self._base.tools.execute(name, raw, ctx), workers=tool_workers, timeout=tool_timeout
        )
        self._limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
        self._client = AsyncClient.sharing(self._base.client, max_concurrency=max_concurrency)
        """The awaited transport, over the same providers, chain and memory as the sync side's."""

    @property
    def client(self) -> AsyncClient:
        """The transport the agent's model calls go through (`herald.AsyncClient`)."""
        return self._client

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
        self._client.hold()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close this loop's connection pool once its conversations end, and stop the MCP
        servers the agent started (a later call starts them again, as with `AIAgent.close`)."""
        await self._client.aclose()
        # Stopping a server waits for its process group: off the loop.
        await asyncio.to_thread(self._base.close)

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
            system_prompt = base._prepare_turn(user_message, system_message)
            session_id = self._session_for(user_message)
        except HeraldError as error:
            return TurnResult("failed", None, history, error=error, error_message=str(error))
        async with AsyncExitStack() as stack:
            if self.max_concurrency is not None:
                await stack.enter_async_context(self._limit())
            clients = await stack.enter_async_context(self._client.lease())
            hooks = ConversationHooks(self._model_answered, self._model_cut_short, self._attempt_ended)
            conversation = Conversation(base, self._client, self._tools, hooks, clients, system_prompt, emit)
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
            before = len(history)
            try:
                result = await run_async(
                    ports, history, user_message, max_iterations=base.max_iterations, max_continuations=base.max_continuations
                )
                result.attempts = conversation.attempts
            except asyncio.CancelledError:
                conversation.stopped = True
                raise
            if session_id is not None and session_id != base.session_id and result.refused_alone(before):
                base.drop_session(session_id)  # refused as too long: no session of that message alone
                return result.without_last_message()
            return result
        raise AssertionError("unreachable")  # mypy: the exit stack does not swallow exceptions

    def _limit(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._limits:
            assert self.max_concurrency is not None
            self._limits[loop] = asyncio.Semaphore(self.max_concurrency)
        return self._limits[loop]

    def _session_for(self, first_message: str) -> str | None:
        """The conversation's session row: a new one, or the `session_id` the agent was given
        (then every conversation of the instance continues that session, as with `AIAgent`)."""
        base = self._base
        store = base.session_store
        if store is None:
            return None
        if base.session_id is not None:
            return base.session_id
        return store.create_session(model=base.model, base_url=base.endpoint.base_url, cwd=str(base.cwd), title=first_message)

    # ── seams for subclasses (e.g. the batch's agent), called by each conversation ──

    def _model_answered(self, response: Any) -> None:
        """A model call of some conversation was answered."""

    def _model_cut_short(self) -> None:
        """A model call of some conversation was cancelled in flight."""

    def _attempt_ended(self, record: Any) -> None:
        """A request of some conversation's model call ended (`AttemptRecord`)."""

    def _persist(self, session_id: str | None, message: dict[str, Any]) -> None:
        store = self._base.session_store
        if store is not None and session_id is not None:
            store.append_message(session_id, message)


@dataclass
class _Failure:
    error: BaseException
