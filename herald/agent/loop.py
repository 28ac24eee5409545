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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Generator, Literal

from herald.agent.messages import assistant_message, tool_message
from herald.agent.result import TurnResult, TurnStatus, add_usage
from herald.errors import HeraldError, Interrupted
from herald.llm.redact import redact
from herald.llm.types import LLMResponse, ToolCall, Usage
from herald.tools.base import ToolResult

log = logging.getLogger("herald.agent")

CONTINUE_PROMPT = "Your answer was cut off by the output limit. Continue exactly where it stopped, without repeating anything."
NOT_RUN_INTERRUPTED = "Not run: the user interrupted before this tool call started."
STOPPED_INTERRUPTED = "Stopped: the user interrupted while this tool call ran; its outcome is unknown."
_PARALLEL_WORKERS = 4


@dataclass(frozen=True)
class ToolProgress:
    """One tool's progress, for displays.

    Attributes:
        kind: "start" when the tool begins (the text stream's turn ends here), "end" when it finished.
        name: the tool's name.
        preview: a short one-line preview of its arguments.
        call_id: the model's id for this call.
        duration: seconds the tool ran ("end" only).
        ok: whether it succeeded ("end" only).
        summary: the first line of an error ("end" only, when not ok).
        arguments: the arguments as the model sent them (JSON text).
        output: what the tool returned to the model ("end" only).
    """

    kind: Literal["start", "end"]
    name: str
    preview: str
    call_id: str
    duration: float = 0.0
    ok: bool = True
    summary: str = ""
    arguments: str = ""
    output: str = ""


# ── steps: what the core asks its driver to do ─────────────────────────


@dataclass(frozen=True)
class ModelCall:
    """Call the model with these native request arguments; send back the `LLMResponse`."""

    api_kwargs: dict[str, Any]
    messages: list[dict[str, Any]]
    """The history they were built from (failover rebuilds the request for each fallback provider)."""


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
    """

    build_request: Callable[[list[dict[str, Any]]], dict[str, Any]]
    persist: Callable[[dict[str, Any]], None]
    is_interrupted: Callable[[], bool]
    tool_is_read_only: Callable[[str, str], bool]
    tool_preview: Callable[[str, str], str]
    report_progress: Callable[[ToolProgress], None]
    secrets: Callable[[], tuple[str | None, ...]]


@dataclass(frozen=True, kw_only=True)
class SyncPorts(LoopPorts):
    """Blocking I/O: one model call, one tool call."""

    call_model: Callable[[dict[str, Any], list[dict[str, Any]]], LLMResponse]
    execute_tool: Callable[[str, str], ToolResult]


@dataclass(frozen=True, kw_only=True)
class AsyncPorts(LoopPorts):
    """Awaited I/O. Cancelling the task is the interrupt.

    Attributes:
        cancelled_partial: what the model call that was just cancelled had received (state
            "interrupted", half-streamed tool calls dropped), if anything.
    """

    call_model: Callable[[dict[str, Any], list[dict[str, Any]]], Awaitable[LLMResponse]]
    execute_tool: Callable[[str, str], Awaitable[ToolResult]]
    cancelled_partial: Callable[[], LLMResponse | None]


# ── the core ───────────────────────────────────────────────────────────


class ConversationCore:
    """One conversation turn's decisions. Holds the history being built."""

    def __init__(
        self, ports: LoopPorts, history: list[dict[str, Any]], *, max_iterations: int, max_continuations: int
    ) -> None:
        self._ports = ports
        self._max_iterations = max_iterations
        self._max_continuations = max_continuations
        self.messages = history
        self.api_calls = 0
        self.usage: Usage | None = None
        self.answered_by: dict[str, Any] | None = None
        self.fallback_reason: str | None = None  # why the last fallback replaced a stream
        self.continued = 0  # broken streams continued in place (the planner's count, per model call)

    def append(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self._ports.persist(message)

    def steps(self, user_message: str) -> Generator[Step, Any, TurnResult]:
        """The turn, as steps for a driver; returns how it ended."""
        self.append({"role": "user", "content": user_message})
        answer_parts: list[str] = []
        continuations = 0
        while self.api_calls < self._max_iterations:
            try:
                api_kwargs = self._ports.build_request(self.messages)
                self.api_calls += 1
                response: LLMResponse = yield ModelCall(api_kwargs, self.messages)
            except Interrupted as stop:
                return self._interrupted(stop.partial, answer_parts)
            except Exception as error:  # HeraldError, or a bug / unexpected SDK error: report it, keep the history
                if not isinstance(error, HeraldError):
                    log.debug("model call failed unexpectedly", exc_info=True)
                return self._result("failed", error=error, error_message=self._describe(error))
            self.usage = add_usage(self.usage, response.usage)
            self.fallback_reason = response.extras.get("fallback_reason") or self.fallback_reason
            self.continued += int(response.extras.get("continuations") or 0)
            self.append(assistant_message(response))
            self.answered_by = response.extras.get("answered_by")
            calls = response.message.tool_calls
            if calls:
                if not (yield from self._run_tools(calls)):
                    return self._result("interrupted", "".join(answer_parts) or None)
                continue
            answer_parts.append(response.message.content or "")
            if response.finish_reason == "length" and continuations < self._max_continuations:
                continuations += 1
                self.append({"role": "user", "content": CONTINUE_PROMPT, "continuation": True})
                continue
            return self._result("completed", "".join(answer_parts), answered_by=self.answered_by, truncated=response.finish_reason == "length")
        return self._result(
            "incomplete",
            "".join(answer_parts) or None,
            error_message=f"stopped after {self.api_calls} model calls (max_iterations) without a final answer",
        )

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
    ) -> TurnResult:
        return TurnResult(
            status, final_response, self.messages, self.api_calls, self.usage, error, error_message, answered_by, truncated,
            self.fallback_reason, continuations=self.continued,
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
    ports: SyncPorts, history: list[dict[str, Any]], user_message: str, *, max_iterations: int, max_continuations: int
) -> TurnResult:
    """Run one turn, blocking on each model and tool call."""
    core = ConversationCore(ports, history, max_iterations=max_iterations, max_continuations=max_continuations)
    steps = core.steps(user_message)
    outcome: Any = None
    error: Exception | None = None
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


def _perform_sync(step: Step, ports: SyncPorts) -> Any:
    if isinstance(step, ModelCall):
        return ports.call_model(step.api_kwargs, step.messages)

    def run_one(call: ToolCall) -> str:
        run = _ToolRun(ports, call)
        return run.finish(ports.execute_tool(call.function.name, call.function.arguments))

    if len(step.calls) == 1:
        return [run_one(step.calls[0])]
    with ThreadPoolExecutor(max_workers=min(len(step.calls), _PARALLEL_WORKERS)) as pool:
        return list(pool.map(run_one, step.calls))


async def run_async(
    ports: AsyncPorts, history: list[dict[str, Any]], user_message: str, *, max_iterations: int, max_continuations: int
) -> TurnResult:
    """Run one turn, awaiting each model and tool call.

    Cancelling the task is the interrupt: the history records it as the sync interrupt does
    (the partial answer kept and marked, every tool call answered), then the cancellation
    propagates.
    """
    core = ConversationCore(ports, history, max_iterations=max_iterations, max_continuations=max_continuations)
    steps = core.steps(user_message)
    outcome: Any = None
    error: Exception | None = None
    while True:
        try:
            step = steps.send(outcome) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        outcome, error = None, None
        try:
            outcome = await _perform_async(step, ports)
        except asyncio.CancelledError:
            partial = ports.cancelled_partial() if isinstance(step, ModelCall) else None
            _conclude(steps, Interrupted(partial=partial))
            raise
        except Exception as exc:
            error = exc


async def _perform_async(step: Step, ports: AsyncPorts) -> Any:
    if isinstance(step, ModelCall):
        return await ports.call_model(step.api_kwargs, step.messages)

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
