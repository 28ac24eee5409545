"""`AsyncAIAgent`: one instance, many concurrent conversations, on asyncio.

Everything that is not I/O is shared with the sync agent (`AgentCore`: settings, tools, the
system prompt, sessions, request building; the conversation loop's core). Only the waiting differs (httpx's
`Client` / `AsyncClient` split): model calls are awaited over one shared aiohttp-backed SDK
client per event loop, tools run in a bounded thread pool, and cancelling a task is the interrupt.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, AsyncIterator

from herald.agent.async_conversation import Conversation, ConversationHooks, Emit
from herald.agent.async_tools import DEFAULT_TOOL_TIMEOUT, DEFAULT_TOOL_WORKERS, AsyncToolRunner
from herald.agent.base import AgentCore
from herald.agent.settings import AgentSettings, Callbacks
from herald.agent.events import DoneEvent, StreamEvent
from herald.agent.loop import AsyncPorts, run_async
from herald.agent.result import TurnResult
from herald.telemetry import traced_turn
from herald.errors import ConfigError, HeraldError
from herald.client import AsyncClient
from herald.llm.relay import relay

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
        session_id: str | None = None,
        session_store: Any = None,
        **options: Any,
    ) -> None:
        callbacks = {name: options.pop(name) for name in list(options) if name.endswith("_callback")}
        self._setup(
            AgentSettings.of(model, **options),
            Callbacks.of(callbacks),
            session_id=session_id,
            session_store=session_store,
            max_concurrency=max_concurrency,
            tool_workers=tool_workers,
            tool_timeout=tool_timeout,
        )

    @classmethod
    def from_settings(
        cls,
        settings: AgentSettings,
        *,
        session_id: str | None = None,
        session_store: Any = None,
        max_concurrency: int | None = None,
        tool_workers: int = DEFAULT_TOOL_WORKERS,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        **callbacks: Any,
    ) -> AsyncAIAgent:
        """The agent for `settings`; `callbacks` are the `…_callback` arguments, by the same names."""
        agent = cls.__new__(cls)
        agent._setup(
            settings,
            Callbacks.of(callbacks),
            session_id=session_id,
            session_store=session_store,
            max_concurrency=max_concurrency,
            tool_workers=tool_workers,
            tool_timeout=tool_timeout,
        )
        return agent

    def _setup(
        self,
        settings: AgentSettings,
        callbacks: Callbacks,
        *,
        session_id: str | None,
        session_store: Any,
        max_concurrency: int | None,
        tool_workers: int,
        tool_timeout: float | None,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be at least 1 (or None for no limit), got {max_concurrency}")
        self.callbacks = callbacks
        """Who is told what as conversations run (`Callbacks`; replace it to change them)."""
        self._client = AsyncClient(
            settings.model, max_concurrency=max_concurrency, attempt_callback=callbacks.attempt, **settings.client_options()
        )
        """The awaited transport: providers, keys, the attempt planner, what endpoints taught."""
        self._core = AgentCore(settings, session_id=session_id, session_store=session_store, notice=self._notify)
        """Everything that is not I/O (settings, tools, prompt, sessions, requests): `AIAgent`'s too."""
        self.max_concurrency = max_concurrency
        self._tools = AsyncToolRunner(
            lambda name, raw, ctx: self._core.tools.execute(name, raw, ctx), workers=tool_workers, timeout=tool_timeout
        )
        self._limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    @property
    def client(self) -> AsyncClient:
        """The transport the agent's model calls go through (`herald.AsyncClient`)."""
        return self._client

    @property
    def core(self) -> AgentCore:
        """The agent's I/O-free side: tools, prompt, sessions, context budget, request building."""
        return self._core

    @property
    def settings(self) -> AgentSettings:
        """What the agent was built from (`herald.agent.settings.AgentSettings`)."""
        return self._core.settings

    # ── configuration ───────────────────────────────────────────────────

    @property
    def model(self) -> str:
        return self._client.model

    @property
    def api_mode(self) -> str:
        return self._client.api_mode

    @property
    def base_url(self) -> str:
        return self._client.base_url

    @property
    def endpoint(self) -> Any:
        """Where requests go (the key is inside: never log this object's fields)."""
        return self._client.endpoint

    @property
    def session_store(self) -> Any:
        """The session database (None when not persisting)."""
        return self._core.session_store

    @property
    def tools(self) -> Any:
        """The tools offered to the model (`ToolRegistry`), built on first use."""
        return self._core.tools

    def _notify(self, note: str) -> None:
        if self.callbacks.notice is not None:
            self.callbacks.notice(note)

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
        await asyncio.to_thread(self._core.close)

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
        async def turn(emit: Emit) -> StreamEvent:
            done = await self._converse(user_message, system_message, conversation_history, emit=emit)
            return DoneEvent(done, done.as_dict())

        async with aclosing(relay(turn)) as events:  # leaving early cancels the work now
            async for event in events:
                yield event

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
        core = self._core
        try:
            system_prompt = core.prepare_turn(user_message, system_message)
            session_id = self._session_for(user_message)
        except HeraldError as error:
            return TurnResult("failed", None, history, error=error, error_message=str(error))
        settings, secrets = core.settings, self._client.secrets
        async with AsyncExitStack() as stack:
            if self.max_concurrency is not None:
                await stack.enter_async_context(self._limit())
            clients = await stack.enter_async_context(self._client.lease())
            hooks = ConversationHooks(self._model_answered, self._model_cut_short, self._attempt_ended)
            conversation = Conversation(core, self._client, self._tools, hooks, clients, system_prompt, emit, self.callbacks)
            tools = core.tools
            ports = AsyncPorts(
                build_request=conversation.build_request,
                call_model=conversation.call_model,
                execute_tool=conversation.execute_tool,
                cancelled_partial=conversation.take_partial,
                persist=lambda message: self._persist(session_id, message),
                is_interrupted=lambda: conversation.stopped,
                tool_is_read_only=tools.is_read_only,
                tool_preview=tools.preview,
                report_progress=conversation.report,
                secrets=secrets,
                interrupt=conversation.stop,
            )
            trace = stack.enter_context(
                traced_turn(model=self.model, api_mode=self.api_mode, session_id=session_id, user_message=user_message, secrets=secrets)
            )
            before = len(history)
            try:
                result = await run_async(
                    replace(ports, report_progress=trace.reporting(ports.report_progress)), history, user_message,
                    max_iterations=settings.max_iterations, max_continuations=settings.max_continuations, limits=settings.limits,
                )
                result.attempts = conversation.attempts
                trace.finish(result)
            except asyncio.CancelledError:
                conversation.stopped = True
                raise
            if session_id is not None and session_id != core.session_id and result.refused_alone(before):
                core.drop_session(session_id)  # refused as too long: no session of that message alone
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
        core = self._core
        if core.session_id is not None:
            return core.session_id if core.session_store is not None else None
        return core.new_session(first_message, model=self.model, base_url=self.base_url)

    # ── seams for subclasses (e.g. the batch's agent), called by each conversation ──

    def _model_answered(self, response: Any) -> None:
        """A model call of some conversation was answered."""

    def _model_cut_short(self) -> None:
        """A model call of some conversation was cancelled in flight."""

    def _attempt_ended(self, record: Any) -> None:
        """A request of some conversation's model call ended (`AttemptRecord`)."""

    def _persist(self, session_id: str | None, message: dict[str, Any]) -> None:
        self._core.persist(session_id, message)

