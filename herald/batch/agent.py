"""The agent side of a batch: its settings, what one attempt's model calls add up to, and its `Outcome`.

The agent itself is `async_agent.BatchAsyncAgent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from herald.batch.jobs import Job, Outcome, local_worker
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
        """The attempt's whole system text: the sample's own (else `--system`), and, only when file or
        terminal tools are offered, the line that tells the model where they work. Herald's own
        prompt (its identity, the date) is never added: a row holds what the sample needed.
        """
        own = job.sample.system if job.sample.system is not None else self.system
        if not self.touches_machine:
            return own
        where = f"Working directory: {job.workdir}"
        return f"{own.strip()}\n\n{where}" if own and own.strip() else where

    def agent_options(self, cwd: Path) -> dict[str, Any]:
        """The agent's keyword arguments (after the model): nothing read from or stored for the user."""
        return dict(
            base_url=self.base_url,
            api_key=self.api_key,
            api_mode=self.api_mode,
            quiet_mode=True,
            skip_context_files=True,
            skip_memory=True,
            herald_prompt=False,
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


def outcome_from_result(
    job: Job, result: dict[str, Any], stats: AttemptStats, *, requested_model: str, duration_s: float = 0.0
) -> Outcome:
    """An `Outcome` from a `run_conversation` result dict."""
    messages = list(result.get("messages") or [])
    if stats.system_prompt:
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
