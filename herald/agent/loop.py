"""The conversation loop: ask the model, run the tools it asks for, repeat until it answers.

Every message is appended to the history (and the session store) as soon as it exists, so
an interrupt, a failure or a kill leaves a consistent, resumable history behind.

The loop is sans-IO, like h11's `Connection`: `ConversationCore.steps()` is a generator that
yields what it needs done (a `ModelCall`, a `ToolBatch`) and is sent the outcome, or has the
error thrown in. It never calls the agent: it sees only the `LoopPorts` it is given. A driver
performs the steps: `run_sync` blocks (the `AIAgent`), `run_async` awaits (the `AsyncAIAgent`).
The two differ only in how they wait; every decision is the core's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Generator, Literal

from herald.agent.limits import LIMIT_WORDS, LimitKind, LimitReached, TurnLimits
from herald.agent.messages import assistant_message, tool_message
from herald.agent.events import ToolProgress
from herald.agent.result import TurnResult, TurnStatus
from herald.errors import HeraldError, Interrupted
from herald.llm.continuation import LengthAllowance
from herald.llm.redact import redact
from herald.llm.types import LLMResponse, ToolCall, Usage, add_usage
from herald.tools.base import ToolResult

log = logging.getLogger("herald.agent")

CONTINUE_PROMPT = "Your answer was cut off by the output limit. Continue exactly where it stopped, without repeating anything."
NOT_RUN_INTERRUPTED = "Not run: the user interrupted before this tool call started."
STOPPED_INTERRUPTED = "Stopped: the user interrupted while this tool call ran; its outcome is unknown."
NOT_RUN_LIMITED = "Not run: the turn reached {limit} before this tool call started."
STOPPED_LIMITED = "Stopped: the turn reached {limit} while this tool call ran; its outcome is unknown."
_PARALLEL_WORKERS = 4


def report_tool(callback: Callable[[ToolProgress], object] | None, progress: ToolProgress) -> None:
    """Tell `callback` of `progress`; a display bug must not stop the agent, so what it raises is logged."""
    if callback is None:
        return
    try:
        callback(progress)
    except Exception:
        log.debug("tool_progress_callback raised; ignored", exc_info=True)


# ── steps: what the core asks its driver to do ─────────────────────────


@dataclass(frozen=True)
class ModelCall:
    """Call the model with these native request arguments; send back the `LLMResponse`."""

    api_kwargs: dict[str, Any]
    messages: list[dict[str, Any]]
    """The history they were built from (failover rebuilds the request for each fallback provider)."""
    length: LengthAllowance = LengthAllowance()
    """How far the call continues an answer the length limit cut, where the provider can
    (`herald.llm.continuation`: the rest is asked for from the answer's own text)."""


@dataclass(frozen=True)
class ToolBatch:
    """Run these tool calls (in parallel when more than one); send back their contents, in order."""

    calls: list[ToolCall]


Step = ModelCall | ToolBatch


# ── ports: what the loop needs from its owner ──────────────────────────


@dataclass(frozen=True, kw_only=True)
class LoopPorts:
    """The owner's side of the loop, apart from the I/O (see `SyncPorts`, `AsyncPorts`).

    Attributes:
        build_request: native request arguments for the history so far (no I/O).
        persist: store one new history message (the session row).
        is_interrupted: True once the user asked to stop.
        tool_is_read_only: may this call run in parallel with its read-only neighbours?
        tool_preview: a one-line preview of a call's arguments, for progress.
        report_progress: tell displays a tool started or ended; must not raise.
        secrets: values to scrub from error messages (the API key).
        interrupt: stop the call or tool in flight, from any thread (the deadline calls it).
    """

    build_request: Callable[[list[dict[str, Any]]], dict[str, Any]]
    persist: Callable[[dict[str, Any]], None]
    is_interrupted: Callable[[], bool]
    tool_is_read_only: Callable[[str, str], bool]
    tool_preview: Callable[[str, str], str]
    report_progress: Callable[[ToolProgress], None]
    secrets: Callable[[], tuple[str | None, ...]]
    interrupt: Callable[[], None] = lambda: None
    """Stop the call or tool in flight, from any thread (the deadline calls it)."""


@dataclass(frozen=True, kw_only=True)
class SyncPorts(LoopPorts):
    """Blocking I/O: one model call, one tool call."""

    call_model: Callable[[dict[str, Any], list[dict[str, Any]], LengthAllowance], LLMResponse]
    execute_tool: Callable[[str, str], ToolResult]


@dataclass(frozen=True, kw_only=True)
class AsyncPorts(LoopPorts):
    """Awaited I/O. Cancelling the task is the interrupt.

    Attributes:
        cancelled_partial: what the model call that was just cancelled had received (state
            "interrupted", half-streamed tool calls dropped), if anything.
    """

    call_model: Callable[[dict[str, Any], list[dict[str, Any]], LengthAllowance], Awaitable[LLMResponse]]
    execute_tool: Callable[[str, str], Awaitable[ToolResult]]
    cancelled_partial: Callable[[], LLMResponse | None]


# ── the core ───────────────────────────────────────────────────────────


class ConversationCore:
    """One conversation turn's decisions. Holds the history being built."""

    def __init__(
        self,
        ports: LoopPorts,
        history: list[dict[str, Any]],
        *,
        max_iterations: int,
        max_continuations: int,
        limits: TurnLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ports = ports
        self._max_iterations = max_iterations
        self._max_continuations = max_continuations
        self._limits = limits or TurnLimits()
        self._clock = clock
        self.deadline = self._limits.deadline(clock())
        """When the turn must end (monotonic seconds), or None: the drivers stop the step in flight then."""
        self.messages = history
        self.api_calls = 0
        self.usage: Usage | None = None
        self.answered_by: dict[str, Any] | None = None
        self.fallback_reason: str | None = None  # why the last fallback replaced a stream
        self.finish_reason: str | None = None
        self._stopped_by: LimitKind | None = None  # the limit that stopped a tool batch
        self._turn_start = len(history)
        self.continued = 0  # broken streams continued in place (the planner's count, per model call)

    def time_left(self) -> float | None:
        """Seconds until the deadline (never below 0), or None without one."""
        return None if self.deadline is None else max(0.0, self.deadline - self._clock())

    def append(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self._ports.persist(message)

    def steps(self, user_message: str, *, resend: bool = False) -> Generator[Step, Any, TurnResult]:
        """The turn, as steps for a driver; returns how it ended.

        With `resend`, the history already ends with this user message (a retry of a failed
        turn, `herald.agent.retry`): it is sent again, not appended (nor stored) twice.
        """
        self._turn_start = len(self.messages)
        if resend and self.messages and self.messages[-1].get("role") == "user":
            self._turn_start -= 1
        else:
            self.append({"role": "user", "content": user_message})
        answer_parts: list[str] = []
        continuations = 0
        while self.api_calls < self._max_iterations:
            limit = self._limit_before_call()
            if limit is not None:
                return self._limited(limit, answer_parts)
            try:
                api_kwargs = self._ports.build_request(self.messages)
                self.api_calls += 1
                length = LengthAllowance(self._max_continuations - continuations, self._output_tokens_left())
                response: LLMResponse = yield ModelCall(api_kwargs, self.messages, length)
            except Interrupted as stop:
                return self._interrupted(stop.partial, answer_parts)
            except LimitReached as stop:
                return self._limited(stop.kind, answer_parts, stop.partial)
            except Exception as error:  # HeraldError, or a bug / unexpected SDK error: report it, keep the history
                if not isinstance(error, HeraldError):
                    log.debug("model call failed unexpectedly", exc_info=True)
                return self._result("failed", error=error, error_message=self._describe(error))
            self.usage = add_usage(self.usage, response.usage)
            self.fallback_reason = response.extras.get("fallback_reason") or self.fallback_reason
            self.finish_reason = response.finish_reason
            self.continued += int(response.extras.get("continuations") or 0)
            continuations += int(response.extras.get("length_continuations") or 0)  # continued in the call
            self.append(assistant_message(response))
            self.answered_by = response.extras.get("answered_by")
            calls = response.message.tool_calls
            if calls:
                if self._tokens_spent():
                    self._answer_all(calls, NOT_RUN_LIMITED.format(limit=LIMIT_WORDS["tokens"]))
                    return self._limited("tokens", answer_parts)
                if not (yield from self._run_tools(calls)):
                    if self._stopped_by is not None:
                        return self._limited(self._stopped_by, answer_parts)
                    return self._result("interrupted", "".join(answer_parts) or None)
                continue
            answer_parts.append(response.message.content or "")
            if response.finish_reason == "length" and continuations < self._max_continuations:
                if self._tokens_spent():
                    return self._limited("tokens", answer_parts)
                continuations += 1
                self.append({"role": "user", "content": CONTINUE_PROMPT, "continuation": True})
                continue
            return self._result("completed", "".join(answer_parts), answered_by=self.answered_by, truncated=response.finish_reason == "length")
        return self._result(
            "incomplete",
            "".join(answer_parts) or None,
            error_message=f"stopped after {self.api_calls} model calls (max_iterations) without a final answer",
        )

    def _limit_before_call(self) -> LimitKind | None:
        """The limit that forbids another model call now, if any."""
        if self._limits.max_turns is not None and self.api_calls >= self._limits.max_turns:
            return "turns"
        if self.time_left() == 0.0:
            return "time"
        return None

    def _tokens_spent(self) -> bool:
        cap = self._limits.max_output_tokens
        return cap is not None and self.usage is not None and self.usage.completion_tokens >= cap

    def _output_tokens_left(self) -> int | None:
        """Completion tokens the turn may still spend (None: no limit)."""
        cap = self._limits.max_output_tokens
        return None if cap is None else cap - (self.usage.completion_tokens if self.usage is not None else 0)

    def _limited(
        self,
        kind: LimitKind,
        answer_parts: list[str],
        partial: LLMResponse | None = None,
    ) -> TurnResult:
        """End the turn at a limit, with the best answer so far: the answer's parts, what the
        stopped call had received (kept in the history, marked), or else the model's latest
        text of this turn (beside tool calls it was not allowed to finish)."""
        text = partial.message.content if partial is not None else None
        if text:
            self.append({"role": "assistant", "content": text, "interrupted": True})
            answer_parts.append(text)
        best = "".join(answer_parts) or self._latest_text() or None
        message = f"stopped at {LIMIT_WORDS[kind]} after {self.api_calls} model calls"
        return self._result("limited", best, error_message=message, limit=kind)

    def _latest_text(self) -> str | None:
        for message in reversed(self.messages[self._turn_start :]):
            if message.get("role") == "assistant" and isinstance(message.get("content"), str) and message["content"]:
                return str(message["content"])
        return None

    def _interrupted(self, partial: LLMResponse | None, answer_parts: list[str]) -> TurnResult:
        text = partial.message.content if partial is not None else None
        if text:
            self.append({"role": "assistant", "content": text, "interrupted": True})
            answer_parts.append(text)
        return self._result("interrupted", "".join(answer_parts) or None)

    def _run_tools(self, calls: list[ToolCall]) -> Generator[Step, Any, bool]:
        """Run the calls, appending one result per call in order. False if interrupted."""
        for batch in _batches(calls, self._ports.tool_is_read_only):
            rest = calls[calls.index(batch[0]) :]
            if self._ports.is_interrupted():
                self._answer_all(rest, NOT_RUN_INTERRUPTED)
                return False
            try:
                results: list[str] = yield ToolBatch(batch)
            except Interrupted:  # the batch's task was cancelled while the tools ran
                self._answer_all(batch, STOPPED_INTERRUPTED)
                self._answer_all(rest[len(batch) :], NOT_RUN_INTERRUPTED)
                return False
            except LimitReached as stop:  # the deadline passed while the tools ran
                self._stopped_by = stop.kind
                self._answer_all(batch, STOPPED_LIMITED.format(limit=LIMIT_WORDS[stop.kind]))
                self._answer_all(rest[len(batch) :], NOT_RUN_LIMITED.format(limit=LIMIT_WORDS[stop.kind]))
                return False
            for call, content in zip(batch, results):
                self.append(tool_message(call.id, call.function.name, content))
        return not self._ports.is_interrupted()

    def _answer_all(self, calls: list[ToolCall], content: str) -> None:
        # Every tool call in the history needs its result, or the next request is rejected.
        for call in calls:
            self.append(tool_message(call.id, call.function.name, content))

    def _describe(self, error: BaseException) -> str:
        text = str(error) or type(error).__name__
        if not isinstance(error, HeraldError):
            text = f"{type(error).__name__}: {text}"
        return redact(text, self._ports.secrets())

    def _result(
        self,
        status: TurnStatus,
        final_response: str | None = None,
        *,
        error: BaseException | None = None,
        error_message: str | None = None,
        answered_by: dict[str, Any] | None = None,
        truncated: bool = False,
        limit: LimitKind | None = None,
    ) -> TurnResult:
        return TurnResult(
            status, final_response, self.messages, self.api_calls, self.usage, error, error_message, answered_by, truncated,
            self.fallback_reason, limit=limit, finish_reason=self.finish_reason, continuations=self.continued,
        )


def _batches(calls: list[ToolCall], read_only: Callable[[str, str], bool]) -> list[list[ToolCall]]:
    """Consecutive read-only calls form one parallel batch; every other call runs alone, in order."""
    batches: list[list[ToolCall]] = []

    def parallel(call: ToolCall) -> bool:
        return read_only(call.function.name, call.function.arguments)

    for call in calls:
        if parallel(call) and batches and parallel(batches[-1][0]):
            batches[-1].append(call)
        else:
            batches.append([call])
    return batches


class _ToolRun:
    """Progress reports around one tool call, shared by both drivers."""

    def __init__(self, ports: LoopPorts, call: ToolCall) -> None:
        self._ports = ports
        self._call = call
        self._preview = ports.tool_preview(call.function.name, call.function.arguments)
        ports.report_progress(ToolProgress("start", call.function.name, self._preview, call.id, arguments=call.function.arguments))
        self._started = time.monotonic()

    def finish(self, result: ToolResult) -> str:
        text = result.content.strip()
        summary = "" if result.ok else text.splitlines()[0][:200] if text else "failed"
        duration = time.monotonic() - self._started
        call = self._call
        self._ports.report_progress(
            ToolProgress(
                "end", call.function.name, self._preview, call.id, duration, result.ok, summary, call.function.arguments, result.content
            )
        )
        return result.content


# ── drivers ────────────────────────────────────────────────────────────


def run_sync(
    ports: SyncPorts,
    history: list[dict[str, Any]],
    user_message: str,
    *,
    max_iterations: int,
    max_continuations: int,
    limits: TurnLimits | None = None,
    resend: bool = False,
) -> TurnResult:
    """Run one turn, blocking on each model and tool call.

    With a time limit, a timer interrupts the step in flight at the deadline (`ports.interrupt`);
    the core is told it was the limit, not the user. The timer ends with the turn.
    """
    core = ConversationCore(ports, history, max_iterations=max_iterations, max_continuations=max_continuations, limits=limits)
    steps = core.steps(user_message, resend=resend)
    deadline = _Deadline(core.time_left(), ports.interrupt)
    outcome: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                step = steps.send(outcome) if error is None else steps.throw(error)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            outcome, error = None, None
            try:
                outcome = _perform_sync(step, ports)
            except Exception as exc:
                error = exc
            if deadline.fired:  # whatever the step returned or raised, the deadline stopped it
                partial = error.partial if isinstance(error, Interrupted) else None
                outcome, error = None, LimitReached("time", partial)
    finally:
        deadline.cancel()


class _Deadline:
    """A timer that calls `stop` once `seconds` have passed (none when `seconds` is None)."""

    def __init__(self, seconds: float | None, stop: Callable[[], None]) -> None:
        self.fired = False
        self._stop = stop
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(seconds, self._fire)
            self._timer.name = "herald-deadline"
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._stop()

    def cancel(self) -> None:
        """Stop the timer and wait for its thread: nothing outlives the turn."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()


def _perform_sync(step: Step, ports: SyncPorts) -> Any:
    if isinstance(step, ModelCall):
        return ports.call_model(step.api_kwargs, step.messages, step.length)

    def run_one(call: ToolCall) -> str:
        run = _ToolRun(ports, call)
        return run.finish(ports.execute_tool(call.function.name, call.function.arguments))

    if len(step.calls) == 1:
        return [run_one(step.calls[0])]
    with ThreadPoolExecutor(max_workers=min(len(step.calls), _PARALLEL_WORKERS)) as pool:
        return list(pool.map(run_one, step.calls))


async def run_async(
    ports: AsyncPorts,
    history: list[dict[str, Any]],
    user_message: str,
    *,
    max_iterations: int,
    max_continuations: int,
    limits: TurnLimits | None = None,
) -> TurnResult:
    """Run one turn, awaiting each model and tool call.

    Cancelling the task is the interrupt: the history records it as the sync interrupt does
    (the partial answer kept and marked, every tool call answered), then the cancellation
    propagates. The time limit cancels the step in flight at the deadline the same way, and
    the turn ends "limited".
    """
    core = ConversationCore(ports, history, max_iterations=max_iterations, max_continuations=max_continuations, limits=limits)
    steps = core.steps(user_message)
    outcome: Any = None
    error: Exception | None = None
    while True:
        try:
            step = steps.send(outcome) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        outcome, error = None, None
        deadline = asyncio.timeout(core.time_left())
        try:
            async with deadline:
                outcome = await _perform_async(step, ports)
        except TimeoutError as exc:
            expired = deadline.expired()
            if expired:
                ports.interrupt()  # tools still running on a worker thread see it and stop
            error = LimitReached("time", ports.cancelled_partial() if isinstance(step, ModelCall) else None) if expired else exc
        except asyncio.CancelledError:
            partial = ports.cancelled_partial() if isinstance(step, ModelCall) else None
            _conclude(steps, Interrupted(partial=partial))
            raise
        except Exception as exc:
            error = exc


async def _perform_async(step: Step, ports: AsyncPorts) -> Any:
    if isinstance(step, ModelCall):
        return await ports.call_model(step.api_kwargs, step.messages, step.length)

    async def run_one(call: ToolCall) -> str:
        run = _ToolRun(ports, call)
        return run.finish(await ports.execute_tool(call.function.name, call.function.arguments))

    return list(await asyncio.gather(*(run_one(call) for call in step.calls)))


def _conclude(steps: Generator[Step, Any, TurnResult], interrupt: Interrupted) -> None:
    """Let the core record an interrupt; it ends the turn there."""
    try:
        steps.throw(interrupt)
    except StopIteration:
        return
    steps.close()  # the core never asks for more after an interrupt; make sure it cannot
