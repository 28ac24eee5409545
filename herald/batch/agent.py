"""The agent side of a batch: its settings, and a sync `AIAgent` that accounts for one attempt.

`BatchAgent` is a real subclass of `AIAgent` that overrides only its seams: `_call_model`
(usage and model of whichever provider answered), `_interruptible_streaming_api_call`
(stream fallbacks), `_interruptible_api_call` (each 429 and each successful call reported to
the concurrency limit; rate limits retried here, so the limit hears of every one of them).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from herald.agent import AIAgent
from herald.batch.jobs import Job, Outcome, local_worker
from herald.errors import Interrupted, RateLimitError
from herald.llm.retry import RetryPolicy, is_transient
from herald.llm.types import LLMResponse

# Toolsets whose tools touch this machine: each attempt gets a working directory of its own.
MACHINE_TOOLSETS = frozenset({"file", "terminal"})
BATCH_TOOLSETS = ("terminal", "file", "web")  # memory is per user, not per sample
RATE_LIMIT_RETRIES = 8  # a 429 is expected in a batch: wait it out longer than other errors


class Signals(Protocol):
    """What a runner tells the concurrency limit while an attempt runs."""

    def rate_limited(self) -> None:
        """The provider answered 429."""

    def succeeded(self) -> None:
        """A model call succeeded."""


class NoSignals:
    """Signals nobody listens to."""

    def rate_limited(self) -> None:
        pass

    def succeeded(self) -> None:
        pass


@dataclass(frozen=True)
class AgentConfig:
    """How every sample's agent is built (picklable: Ray workers receive it).

    Attributes:
        model / base_url / api_key / api_mode: the provider, as `AIAgent` takes them.
        toolsets: the toolsets offered (none by default: nothing touches the machine).
        yolo: run dangerous commands; otherwise they are refused (nobody can approve).
        system: the system text for samples that bring none.
        max_iterations: model calls per sample before giving up.
        stream: stream each call (with fallback) rather than plain requests.
        max_tokens / max_continuations: answer-length settings, as in `AIAgent`.
        max_retries: retries of a failed request (429s get `RATE_LIMIT_RETRIES`).
        workdir_root: where per-attempt working directories are made.
        api_keys / fallback / failover_cooldown: failover, as `AIAgent` takes it (the config
            file's key pool and `[[fallback]]` tables).
        max_context_tokens / temperature: as `AIAgent` takes them.
    """

    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_mode: str | None = None
    toolsets: tuple[str, ...] = ()
    yolo: bool = False
    system: str | None = None
    max_iterations: int = 50
    stream: bool = True
    max_tokens: int | None = None
    max_continuations: int = 3
    max_retries: int = 3
    workdir_root: Path = Path("batch.work")
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    fallback: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    failover_cooldown: float | None = None
    max_context_tokens: int | None = None
    temperature: float | None = None

    @property
    def fails_over(self) -> bool:
        """True when another key or provider can take over from a rate-limited one."""
        return bool(self.api_keys) or bool(self.fallback)

    @property
    def touches_machine(self) -> bool:
        """True when file or terminal tools are offered."""
        return bool(MACHINE_TOOLSETS.intersection(self.toolsets))

    def cwd_for(self, job: Job) -> Path:
        """The attempt's working directory, created when its tools need one.

        Without such tools nothing is created, and every sample sees the same directory
        in its system prompt (identical prompt prefixes cache better at the provider).
        """
        if not self.touches_machine:
            return self.workdir_root
        job.workdir.mkdir(parents=True, exist_ok=True)
        return job.workdir

    def system_for(self, job: Job) -> str | None:
        return job.sample.system if job.sample.system is not None else self.system

    def agent_options(self, cwd: Path) -> dict[str, Any]:
        """The agent's keyword arguments (after the model): nothing read from or stored for the user."""
        return dict(
            base_url=self.base_url,
            api_key=self.api_key,
            api_mode=self.api_mode,
            quiet_mode=True,
            skip_context_files=True,
            skip_memory=True,
            max_iterations=self.max_iterations,
            yolo=self.yolo,
            enabled_toolsets=list(self.toolsets),
            cwd=cwd,
            persist_session=False,
            max_tokens=self.max_tokens,
            max_continuations=self.max_continuations,
            max_retries=self.max_retries,
            api_keys=list(self.api_keys) or None,
            fallback=list(self.fallback),
            failover_cooldown=self.failover_cooldown,
            max_context_tokens=self.max_context_tokens,
            temperature=self.temperature,
        )


@dataclass
class AttemptStats:
    """What one attempt's model calls added up to."""

    usage: dict[str, int] = field(default_factory=dict)
    fallbacks: int = 0
    rate_limited: int = 0
    model: str | None = None
    system_prompt: str | None = None

    def add(self, response: LLMResponse) -> None:
        if response.model:
            self.model = response.model
        usage = response.usage
        if usage is None:
            return
        counts = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
        if usage.reasoning_tokens is not None:
            counts["reasoning_tokens"] = usage.reasoning_tokens
        for name, value in counts.items():
            self.usage[name] = self.usage.get(name, 0) + value


class BatchAgent(AIAgent):
    """One attempt's agent: no session, no memory, no context files, nobody to ask.

    Args:
        config: the batch's agent settings.
        cwd: the attempt's working directory.
        signals: told of every 429 and every successful call (from this agent's thread).
    """

    def __init__(self, config: AgentConfig, cwd: Path, signals: Signals) -> None:
        super().__init__(
            config.model,
            base_url=config.base_url,
            api_key=config.api_key,
            api_mode=config.api_mode,
            quiet_mode=True,
            skip_context_files=True,
            skip_memory=True,
            max_iterations=config.max_iterations,
            yolo=config.yolo,
            enabled_toolsets=list(config.toolsets),
            cwd=cwd,
            persist_session=False,
            max_tokens=config.max_tokens,
            max_continuations=config.max_continuations,
            max_retries=0,  # retried here, where every failure can be seen
            api_keys=list(config.api_keys) or None,
            fallback=list(config.fallback),
            failover_cooldown=config.failover_cooldown,
            max_context_tokens=config.max_context_tokens,
            temperature=config.temperature,
        )
        self.stats = AttemptStats()
        self._stream = config.stream
        self._retry = RetryPolicy(max_retries=config.max_retries)
        # With another key or provider to fail over to, a 429 moves on at once; alone, it waits.
        self._rate_limit_retries = 0 if config.fails_over else RATE_LIMIT_RETRIES
        self._signals = signals
        self._stopped = threading.Event()

    # ── stopping ────────────────────────────────────────────────────────

    def interrupt(self) -> None:
        """Stop this attempt for good (its time limit passed, or the batch is stopping)."""
        self._stopped.set()
        super().interrupt()

    def clear_interrupt(self) -> None:
        if not self._stopped.is_set():  # a stop that came before the turn started still holds
            super().clear_interrupt()

    # ── the seams ───────────────────────────────────────────────────────

    def _has_stream_consumers(self) -> bool:
        return self._stream

    def _system_prompt(self, system_message: str | None) -> str:
        prompt = super()._system_prompt(system_message)
        self.stats.system_prompt = prompt
        return prompt

    def _call_model(self, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]]) -> LLMResponse:
        response = super()._call_model(api_kwargs, system_prompt, messages)
        self.stats.add(response)  # whichever provider answered
        return response

    def _interruptible_streaming_api_call(
        self, api_kwargs: dict[str, Any], *, on_first_delta: Callable[[], object] | None = None
    ) -> LLMResponse:
        response = super()._interruptible_streaming_api_call(api_kwargs, on_first_delta=on_first_delta)
        if response.extras.get("fallback_reason"):
            self.stats.fallbacks += 1
        return response

    def _interruptible_api_call(self, api_kwargs: dict[str, Any]) -> LLMResponse:
        failures = limited = 0
        while True:
            try:
                response = super()._interruptible_api_call(api_kwargs)
            except Exception as error:
                if isinstance(error, RateLimitError):
                    limited += 1
                    self.stats.rate_limited += 1
                    self._signals.rate_limited()
                    give_up = limited > self._rate_limit_retries
                else:
                    failures += 1
                    give_up = not is_transient(error) or failures > self._retry.max_retries
                if give_up:
                    raise
                if self._stopped.wait(self._retry.delay_for(limited + failures, error)):
                    raise Interrupted() from error
                continue
            self._signals.succeeded()
            return response


def run_attempt(config: AgentConfig, job: Job, agent: BatchAgent) -> Outcome:
    """Run `job` on `agent` (blocking) and describe how it ended."""
    sample = job.sample
    result = agent.run_conversation(
        sample.user_message, system_message=config.system_for(job), conversation_history=list(sample.history)
    )
    return outcome_from_result(job, result, agent.stats, requested_model=config.model)


def outcome_from_result(
    job: Job, result: dict[str, Any], stats: AttemptStats, *, requested_model: str, duration_s: float = 0.0
) -> Outcome:
    """An `Outcome` from a `run_conversation` result dict."""
    messages = list(result.get("messages") or [])
    if stats.system_prompt is not None:
        messages.insert(0, {"role": "system", "content": stats.system_prompt})
    error, error_type = result.get("error"), result.get("error_type")
    if result.get("completed"):
        status = "completed"
        error = error_type = None
    else:
        status = "failed"
        if result.get("interrupted"):
            error, error_type = error or "stopped before the answer was complete", error_type or "Interrupted"
        elif not result.get("failed"):
            error_type = error_type or "MaxIterations"
        error = error or "the turn ended without an answer"
        error_type = error_type or "Error"
    return Outcome(
        job,
        status,  # type: ignore[arg-type]
        final_response=result.get("final_response"),
        messages=messages,
        usage=dict(stats.usage),
        api_calls=int(result.get("api_calls") or 0),
        fallbacks=stats.fallbacks,
        error=error,
        error_type=error_type,
        model=stats.model or requested_model,
        duration_s=duration_s,
        worker=local_worker(),
        rate_limited=stats.rate_limited,
    )
