"""`LoopThread`: an asyncio event loop on a thread of its own, for MCP sessions.

An MCP session is a set of tasks (pipe readers, an HTTP stream) that must keep running
between tool calls, and be entered and left in one task. The sync agent has no loop, and an
async agent's loop may come and go; so the sessions live here, and both kinds of caller
submit coroutines: `run()` blocks a thread, `arun()` awaits from any other loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

T = TypeVar("T")

_POLL = 0.05  # how often a blocked caller looks at its interrupt flag


class LoopThread:
    """A daemon thread running one event loop until `stop()`.

    Args:
        name: the thread's name (shows in debuggers and thread dumps).
    """

    def __init__(self, name: str = "herald-mcp") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop; cancelling the future cancels its task."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run(self, coro: Coroutine[Any, Any, T], *, is_interrupted: Callable[[], bool] | None = None) -> T:
        """Run `coro` on the loop and wait for it (from any thread but the loop's own).

        Raises:
            InterruptedError: `is_interrupted()` turned true first; the coroutine was cancelled.
        """
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError("LoopThread.run() called from its own loop; await the coroutine instead")
        future = self.submit(coro)
        while True:
            try:
                return future.result(timeout=_POLL if is_interrupted is not None else None)
            except concurrent.futures.TimeoutError:
                if is_interrupted is not None and is_interrupted():
                    future.cancel()
                    raise InterruptedError("interrupted") from None

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` from another event loop (cancelling the caller cancels it here too)."""
        wrapped: Awaitable[T] = asyncio.wrap_future(self.submit(coro))
        return await wrapped

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait for its thread (idempotent). Tasks still pending are cancelled."""
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(self._loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
