"""One behaviour suite, two agents: every test body here runs against `AIAgent` and `AsyncAIAgent`.

The `agent_kind` fixture is parametrised over "sync" and "async"; `harness` builds the agent of
that kind (`harness.make(fake, mode, **options)`) and drives it as its users do:

- a turn: `subject.run(message)` returns the `run_conversation` dict. The blocking agent is
  called directly; the awaited one is awaited in a fresh event loop (`asyncio.run`). With
  `streaming=True` (the default) the blocking agent has stream callbacks and the awaited one is
  consumed through `agent.stream()`; `subject.screen` holds what a reset-honouring display shows
  (text, reasoning, resets, continuations) either way.
- an interrupt: `subject.run_interrupted(message, after=N)` interrupts the turn once N text
  chunks were shown (or, `on_retry=True`, once a failed request is about to be retried: the
  agent's `attempt_callback` says so), as a user would: `agent.interrupt()` from another thread (blocking), or
  cancelling the task that consumes the stream (awaited). Never on a timer, which could fire
  before the stream started on a loaded machine.

`subject.attempts` are the `AttemptRecord`s the agent's `attempt_callback` received.
Every agent persists to a session store of the test's own (`subject.store`), so what an
interrupted turn kept is read the same way for both.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from fakeprovider import FakeProvider
from herald import AIAgent, AsyncAIAgent
from herald.agent.events import StreamEvent
from herald.sessions import SessionStore

WIRES = ["chat_completions", "codex_responses", "anthropic_messages"]
KINDS = ["sync", "async"]
KEY = "herald-behaviour-secret-5c81e3"
"""Not shaped like any known key: only Herald's knowledge of its own keys can hide it."""


def url(fake: FakeProvider, mode: str) -> str:
    """The base URL of `fake` for the wire `mode`."""
    return fake.anthropic_base_url if mode == "anthropic_messages" else fake.base_url


def posts(fake: FakeProvider) -> int:
    return sum(1 for r in fake.requests if r.method == "POST")


def keys_sent(fake: FakeProvider) -> list[str]:
    return [
        r.headers.get("x-api-key") or r.headers.get("authorization", "").removeprefix("Bearer ")
        for r in fake.requests
        if r.method == "POST"
    ]


def streamed(fake: FakeProvider) -> list[bool]:
    return [r.stream for r in fake.requests if r.method == "POST"]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `condition` (a state the server reaches on its own) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Clock:
    """An injected clock for provider cooldowns (`agent.client.chain.clock`)."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Screen:
    """What a display that honours resets shows, from callbacks (sync) or events (async)."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    resets: int = 0
    continued: int = 0
    deliveries: int = 0
    """Every text or reasoning delivery, ever: one that comes after the turn ended shows here."""
    before_reset: list[str] = field(default_factory=list)
    """What was shown when each reset came."""

    def clear(self) -> None:
        """A new turn: nothing shown yet (`deliveries` still counts every delivery ever)."""
        self.text.clear()
        self.reasoning.clear()
        self.before_reset.clear()
        self.resets = self.continued = 0

    def on_text(self, text: str) -> None:
        self.deliveries += 1
        self.text.append(text)

    def on_reasoning(self, text: str) -> None:
        self.deliveries += 1
        self.reasoning.append(text)

    def on_reset(self) -> None:
        self.resets += 1
        self.before_reset.append(self.shown)
        self.text.clear()
        self.reasoning.clear()

    def on_continued(self) -> None:
        self.continued += 1

    def take(self, event: StreamEvent) -> None:
        if event.kind == "text":
            self.on_text(event.text)
        elif event.kind == "reasoning":
            self.on_reasoning(event.text)
        elif event.kind == "reset":
            self.on_reset()
        elif event.kind == "continued":
            self.on_continued()

    @property
    def shown(self) -> str:
        return "".join(self.text)

    @property
    def chunks(self) -> int:
        return len(self.text)


class Subject:
    """One agent under test and the way its users drive it; see the module docstring."""

    def __init__(self, kind: str, options: dict[str, Any], streaming: bool) -> None:
        self.kind = kind
        self.streaming = streaming
        self.screen = Screen()
        self.attempts: list[Any] = []
        """Every request's `AttemptRecord`, as the agent's `attempt_callback` received it."""
        self.store: SessionStore = options["session_store"]
        self._interrupt_at: int | None = None
        self._interrupt_on_retry = False
        self._fire: Callable[[], object] | None = None
        """Interrupts the running turn; set while `run_interrupted` runs."""
        self._fired = threading.Event()
        given = options.pop("attempt_callback", None)

        def on_attempt(record: Any) -> None:
            self.attempts.append(record)
            if given is not None:
                given(record)
            if self._interrupt_on_retry and record.next == "retry":
                self._trigger()

        callbacks: dict[str, Any] = {"attempt_callback": on_attempt}
        if kind == "sync":
            if streaming:
                callbacks.update(
                    stream_delta_callback=self._sync_text,
                    reasoning_callback=self.screen.on_reasoning,
                    stream_reset_callback=self.screen.on_reset,
                    stream_continued_callback=self.screen.on_continued,
                )
            self.agent: AIAgent | AsyncAIAgent = AIAgent(**options, **callbacks)
        else:
            self.agent = AsyncAIAgent(**options, **callbacks)

    @property
    def client(self) -> Any:
        return self.agent.client

    def use_clock(self, clock: Clock) -> None:
        self.agent.client.chain.clock = clock

    # ── a turn ───────────────────────────────────────────────────────

    def run(self, message: str, history: list[dict[str, Any]] | None = None, system: str | None = None) -> dict[str, Any]:
        """One turn to its end: the `run_conversation` dict (`screen` shows this turn only)."""
        self.screen.clear()
        if isinstance(self.agent, AIAgent):
            return self.agent.run_conversation(message, system, history)
        return asyncio.run(self._arun(message, history, system))

    def run_interrupted(
        self,
        message: str,
        *,
        after: int | None = None,
        on_retry: bool = False,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """A turn interrupted once `after` text chunks were shown, or (`on_retry`) once a request
        failed and the agent is about to retry it. Returns the sync agent's result dict (it
        returns one, marked interrupted), None for the async one (its task was cancelled)."""
        assert (after is None) != (not on_retry), "interrupt after some text, or on a retry"
        assert after is None or self.streaming, "text-driven interrupts need a streaming agent"
        self.screen.clear()
        self._interrupt_at, self._interrupt_on_retry = after, on_retry
        self._fired.clear()
        try:
            if isinstance(self.agent, AIAgent):
                agent = self.agent
                # As a UI thread (or a Ctrl-C handler) does: from another thread.
                self._fire = lambda: threading.Thread(target=agent.interrupt).start()
                result = agent.run_conversation(message, None, history)
                assert self._fired.is_set(), "the turn ended before it could be interrupted"
                assert result["interrupted"] and not result["completed"] and not result["failed"], result
                return result
            asyncio.run(self._acancelled(message, history))
            return None
        finally:
            self._interrupt_at, self._interrupt_on_retry, self._fire = None, False, None

    def _trigger(self) -> None:
        if self._fire is not None and not self._fired.is_set():
            self._fired.set()
            self._fire()

    def _sync_text(self, text: str) -> None:
        self.screen.on_text(text)
        self._text_shown()

    def _text_shown(self) -> None:
        if self._interrupt_at is not None and self.screen.chunks >= self._interrupt_at:
            self._trigger()

    async def _arun(self, message: str, history: list[dict[str, Any]] | None, system: str | None) -> dict[str, Any]:
        agent = self.agent
        assert isinstance(agent, AsyncAIAgent)
        if not self.streaming:
            return await agent.run_conversation(message, system, history)
        result: dict[str, Any] | None = None
        async for event in agent.stream(message, system, history):
            self.screen.take(event)
            if event.kind == "done":
                result = event.result
        assert result is not None, "the stream ended without its done event"
        return result

    async def _acancelled(self, message: str, history: list[dict[str, Any]] | None) -> None:
        agent = self.agent
        assert isinstance(agent, AsyncAIAgent)
        loop = asyncio.get_running_loop()
        time_to_cancel = asyncio.Event()
        self._fire = lambda: loop.call_soon_threadsafe(time_to_cancel.set)
        ended: list[dict[str, Any]] = []

        async def consume() -> None:
            if not self.streaming:
                ended.append(await agent.run_conversation(message, None, history))
                return
            async for event in agent.stream(message, None, history):
                self.screen.take(event)
                if event.kind == "done":
                    ended.append(event.result)
                self._text_shown()

        task = asyncio.create_task(consume())
        waiter = asyncio.create_task(time_to_cancel.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        assert not ended and not task.done(), f"the turn ended before it could be interrupted: {ended}"
        task.cancel()  # how a user of the awaited agent interrupts a turn
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.gather(waiter, return_exceptions=True)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not others, f"tasks left running after the cancel: {others}"

    # ── what the turn left ───────────────────────────────────────────

    def stored(self) -> list[dict[str, Any]]:
        """The messages of the agent's most recent session."""
        sessions = self.store.list_sessions()  # the most recently updated first
        assert sessions, "no session was stored"
        return self.store.load_messages(sessions[0].id)

    def close(self) -> None:
        if isinstance(self.agent, AIAgent):
            self.agent.close()
        else:
            asyncio.run(self.agent.aclose())


class Harness:
    """Builds agents of one kind for a test (and closes them after it)."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self._tmp = tmp_path
        self._subjects: list[Subject] = []
        self._stores: list[SessionStore] = []

    def make(self, fake: FakeProvider, mode: str = "chat_completions", *, streaming: bool = True, **options: Any) -> Subject:
        """An agent on `fake` over the wire `mode`; `options` are the agents' own arguments."""
        if "session_store" not in options:
            store = SessionStore(self._tmp / f"sessions-{len(self._stores)}.db")
            self._stores.append(store)
            options["session_store"] = store
        settings: dict[str, Any] = dict(
            model="test/model", base_url=url(fake, mode), api_key=KEY, api_mode=mode,
            skip_context_files=True, skip_memory=True, quiet_mode=True, max_retries=0,
            persist_session=True, cwd=self._tmp, enabled_toolsets=[],
        )  # fmt: skip
        settings.update(options)
        subject = Subject(self.kind, settings, streaming)
        self._subjects.append(subject)
        return subject

    def close(self) -> None:
        for subject in self._subjects:
            subject.close()
        for store in self._stores:
            store.close()
