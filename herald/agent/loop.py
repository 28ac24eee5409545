"""The conversation loop: ask the model, run the tools it asks for, repeat until it answers.

Every message is appended to the history (and the session store) as soon as it exists, so
an interrupt, a failure or a kill leaves a consistent, resumable history behind.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

from herald.agent.messages import assistant_message, tool_message
from herald.agent.usage import UsageTotals
from herald.errors import HeraldError, Interrupted
from herald.llm.redact import redact
from herald.llm.types import LLMResponse, ToolCall

if TYPE_CHECKING:
    from herald.agent.core import AIAgent

log = logging.getLogger("herald.agent")

CONTINUE_PROMPT = "Your answer was cut off by the output limit. Continue exactly where it stopped, without repeating anything."
NOT_RUN_INTERRUPTED = "Not run: the user interrupted before this tool call started."
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


class ConversationLoop:
    """One `run_conversation` call. Holds the history being built."""

    def __init__(self, agent: AIAgent, history: list[dict[str, Any]], persist: Callable[[dict[str, Any]], None]) -> None:
        self._agent = agent
        self.messages = history
        self._persist = persist
        self.api_calls = 0
        self.usage = UsageTotals()  # summed over this turn's model answers
        self.fallback_reason: str | None = None  # why the last fallback replaced a stream

    def append(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self._persist(message)

    def run(self, user_message: str, system_prompt: str) -> dict[str, Any]:
        self.append({"role": "user", "content": user_message})
        answer_parts: list[str] = []
        continuations = 0
        while self.api_calls < self._agent.max_iterations:
            try:
                response = self._call_model(system_prompt)
            except Interrupted as stop:
                return self._interrupted(stop.partial, answer_parts)
            except HeraldError as error:
                return self._result(failed=True, error=self._describe(error), error_type=type(error).__name__)
            except Exception as error:  # a bug or an unexpected SDK error: report it, keep the history
                log.debug("model call failed unexpectedly", exc_info=True)
                return self._result(failed=True, error=self._describe(error), error_type=type(error).__name__)
            self.usage.add(response.usage)
            self.fallback_reason = response.extras.get("fallback_reason") or self.fallback_reason
            self.append(assistant_message(response))
            calls = response.message.tool_calls
            if calls:
                if not self._run_tools(calls):
                    return self._result(interrupted=True, final_response="".join(answer_parts) or None)
                continue
            answer_parts.append(response.message.content or "")
            if response.finish_reason == "length" and continuations < self._agent.max_continuations:
                continuations += 1
                self.append({"role": "user", "content": CONTINUE_PROMPT, "continuation": True})
                continue
            return self._result(completed=True, final_response="".join(answer_parts))
        return self._result(
            final_response="".join(answer_parts) or None,
            error=f"stopped after {self.api_calls} model calls (max_iterations) without a final answer",
        )

    # ── the model ───────────────────────────────────────────────────────

    def _call_model(self, system_prompt: str) -> LLMResponse:
        agent = self._agent
        api_kwargs = agent._build_api_kwargs(system_prompt, self.messages)
        self.api_calls += 1
        if agent._has_stream_consumers():
            return agent._interruptible_streaming_api_call(api_kwargs)
        return agent._interruptible_api_call(api_kwargs)

    def _interrupted(self, partial: LLMResponse | None, answer_parts: list[str]) -> dict[str, Any]:
        text = partial.message.content if partial is not None else None
        if text:
            self.append({"role": "assistant", "content": text, "interrupted": True})
            answer_parts.append(text)
        return self._result(interrupted=True, final_response="".join(answer_parts) or None)

    # ── tools ───────────────────────────────────────────────────────────

    def _run_tools(self, calls: list[ToolCall]) -> bool:
        """Run the calls, appending one result per call in order. False if interrupted."""
        for batch in _batches(calls, self._agent._tool_is_read_only):
            if self._agent._interrupt_requested:
                for call in calls[calls.index(batch[0]):]:
                    self.append(tool_message(call.id, call.function.name, NOT_RUN_INTERRUPTED))
                return False
            if len(batch) == 1:
                results = [self._run_tool(batch[0])]
            else:
                with ThreadPoolExecutor(max_workers=min(len(batch), _PARALLEL_WORKERS)) as pool:
                    results = list(pool.map(self._run_tool, batch))
            for call, content in zip(batch, results):
                self.append(tool_message(call.id, call.function.name, content))
        return not self._agent._interrupt_requested

    def _run_tool(self, call: ToolCall) -> str:
        agent = self._agent
        name, raw = call.function.name, call.function.arguments
        preview = agent._tool_preview(name, raw)
        agent._report_tool(ToolProgress("start", name, preview, call.id, arguments=raw))
        started = time.monotonic()
        result = agent._execute_tool(name, raw)
        summary = "" if result.ok else result.content.strip().splitlines()[0][:200] if result.content.strip() else "failed"
        duration = time.monotonic() - started
        agent._report_tool(
            ToolProgress("end", name, preview, call.id, duration, result.ok, summary, arguments=raw, output=result.content)
        )
        return result.content

    # ── results ─────────────────────────────────────────────────────────

    def _describe(self, error: BaseException) -> str:
        text = str(error) or type(error).__name__
        if not isinstance(error, HeraldError):
            text = f"{type(error).__name__}: {text}"
        return redact(text, (self._agent.endpoint.api_key,))

    def _result(
        self,
        *,
        final_response: str | None = None,
        completed: bool = False,
        interrupted: bool = False,
        failed: bool = False,
        error: str | None = None,
        error_type: str | None = None,
    ) -> dict[str, Any]:
        return {
            "final_response": final_response,
            "messages": self.messages,
            "api_calls": self.api_calls,
            "completed": completed,
            "interrupted": interrupted,
            "failed": failed,
            "error": error,
            # The exception's class name (e.g. "AuthenticationError"), so a UI can say what to do.
            "error_type": error_type,
            "usage": self.usage.record(),
            "fallback_reason": self.fallback_reason,
        }


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

