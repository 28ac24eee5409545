"""Tools for the async agent: blocking tools off the event loop, each bounded by its own timeout.

Tools are plain blocking functions (they run processes, read files, fetch pages). The async
agent runs them in one bounded thread pool per agent, so a thousand conversations never start
a thousand threads, and awaits them without blocking the loop. A call that outlives its
timeout, or whose task is cancelled, is told to stop (its context's `is_interrupted` turns
True: the terminal tool kills its command) and answered at once; the loop never waits for it.

Approval callbacks may be coroutines: the tool's worker thread hands the coroutine to the
event loop and waits for the answer, so prompting never blocks the loop either.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any, Awaitable, Callable, Coroutine

from herald.tools.approval import ApprovalRequest, Decision
from herald.tools.base import ToolContext, ToolResult

DEFAULT_TOOL_WORKERS = 8
DEFAULT_TOOL_TIMEOUT = 900.0
"""Longer than the terminal tool's own maximum (600 s), so its own timeout normally speaks first."""

Execute = Callable[[str, str, ToolContext], ToolResult]
AsyncApproval = Callable[[ApprovalRequest], "Decision | Awaitable[Decision]"]

_current = threading.local()  # the stop flag of the tool call running on this worker thread
_POLL = 0.05


class AsyncToolRunner:
    """Runs tool calls in a bounded thread pool and awaits them.

    Args:
        execute: runs one call, blocking (the registry's `execute`).
        workers: most tool calls running at once, across all conversations.
        timeout: seconds one call may take (None: no limit of ours).
    """

    def __init__(self, execute: Execute, *, workers: int = DEFAULT_TOOL_WORKERS, timeout: float | None = DEFAULT_TOOL_TIMEOUT) -> None:
        if workers < 1:
            raise ValueError(f"tool workers must be at least 1, got {workers}")
        self._execute = execute
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="herald-tool")

    async def run(self, name: str, raw_arguments: str, ctx: ToolContext) -> ToolResult:
        """Run one call off the loop; a timeout is an error result, a cancellation stops the tool.

        Raises:
            asyncio.CancelledError: the task was cancelled (the tool was told to stop).
        """
        stop = threading.Event()
        outer = ctx.is_interrupted
        call_ctx = replace(ctx, is_interrupted=lambda: stop.is_set() or outer())
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._work, stop, name, raw_arguments, call_ctx)
        try:
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            return ToolResult(f"Error: {name} did not finish within {self._timeout:g}s and was stopped.", ok=False)
        finally:
            stop.set()  # a no-op when it finished; otherwise the tool stops as soon as it looks

    def _work(self, stop: threading.Event, name: str, raw_arguments: str, ctx: ToolContext) -> ToolResult:
        _current.stop = stop
        try:
            return self._execute(name, raw_arguments, ctx)
        finally:
            _current.stop = None

    def close(self) -> None:
        """Stop accepting calls; calls still running are left to finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def blocking_approval(callback: AsyncApproval, loop: asyncio.AbstractEventLoop) -> Callable[[ApprovalRequest], Decision]:
    """An approval callback for `ApprovalGate` (called on a tool's worker thread) from one that may be async.

    A coroutine's answer is awaited on `loop`; the worker waits for it, giving up ("deny")
    when its tool call is stopped.
    """

    def ask(request: ApprovalRequest) -> Decision:
        answer = callback(request)
        if not inspect.isawaitable(answer):
            return answer
        future: Future[Decision] = asyncio.run_coroutine_threadsafe(_awaited(answer), loop)
        stop: threading.Event | None = getattr(_current, "stop", None)
        while True:
            try:
                return future.result(timeout=_POLL)
            except FutureTimeout:
                if stop is not None and stop.is_set():
                    future.cancel()
                    return "deny"

    return ask


def _awaited(answer: Awaitable[Decision]) -> Coroutine[Any, Any, Decision]:
    async def wait() -> Decision:
        return await answer

    return wait()
