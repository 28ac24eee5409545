"""Drivers for sans-IO decisions written as generators: one that blocks, one that awaits.

A decision that needs I/O (stream, else fall back to a plain request; a buffered Responses
request, else a plain one; send again once the context window is known) is written once, as
a generator that yields the step it needs performed and is sent the outcome, or has the
error thrown in. The sync and async callers differ only in the driver they run it with:

    def decide() -> Generator[Step, Answer, Answer]:
        try:
            return (yield first_step)
        except SomeError:
            return (yield other_step)

    answer = run_steps(decide(), perform)            # perform(step) -> outcome
    answer = await arun_steps(decide(), aperform)    # await aperform(step) -> outcome

Only `Exception`s are thrown in: a `BaseException` (a task's cancellation, Ctrl-C) leaves
the driver at once, and the generator is closed.
"""

from __future__ import annotations

import asyncio

from typing import Any, Awaitable, Callable, Generator, Generic, TypeVar

S = TypeVar("S")
R = TypeVar("R")


class Stepper(Generic[S, R]):
    """Advances a step generator: the current `step`, or `done` with the `value` it returned."""

    def __init__(self, steps: Generator[S, Any, R]) -> None:
        self._steps = steps
        self.done = False
        self.value: R | None = None
        self.step: S
        self._advance(lambda: next(steps))

    def send(self, outcome: Any) -> None:
        """The current step's outcome."""
        self._advance(lambda: self._steps.send(outcome))

    def throw(self, error: BaseException) -> None:
        """The current step failed with `error` (the generator may handle it or let it out)."""
        self._advance(lambda: self._steps.throw(error))

    def close(self) -> None:
        self._steps.close()

    def result(self) -> R:
        return self.value  # type: ignore[return-value]

    def _advance(self, move: Callable[[], S]) -> None:
        try:
            self.step = move()
        except StopIteration as stop:
            self.done, self.value = True, stop.value


def run_steps(steps: Generator[S, Any, R], perform: Callable[[S], Any]) -> R:
    """Drive `steps` to its end, performing each step with `perform` (blocking)."""
    stepper = Stepper(steps)
    try:
        while not stepper.done:
            try:
                outcome = perform(stepper.step)
            except Exception as error:
                stepper.throw(error)
            else:
                stepper.send(outcome)
        return stepper.result()
    finally:
        stepper.close()


async def arun_steps(
    steps: Generator[S, Any, R],
    perform: Callable[[S], Awaitable[Any]],
    *,
    cancelled: Callable[[Stepper[S, R]], object] | None = None,
) -> R:
    """Drive `steps` to its end, awaiting each step's `perform`.

    When the task is cancelled during a step, `cancelled(stepper)` may still ask the steps what
    they leave behind (by throwing their own kind of stop in) before the cancellation goes on.
    """
    stepper = Stepper(steps)
    try:
        while not stepper.done:
            try:
                outcome = await perform(stepper.step)
            except asyncio.CancelledError:
                if cancelled is not None:
                    cancelled(stepper)
                raise
            except Exception as error:
                stepper.throw(error)
            else:
                stepper.send(outcome)
        return stepper.result()
    finally:
        stepper.close()


__all__ = ["Stepper", "arun_steps", "run_steps"]
