"""The agent side of a batch: its settings, what one attempt's model calls add up to, and its `Outcome`.

The agent itself is `async_agent.BatchAsyncAgent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from herald.agent.settings import AgentSettings
from herald.batch.jobs import Job, Outcome, local_worker
from herald.llm.types import LLMResponse, Usage, add_usage

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


BATCH_AGENT = AgentSettings(
    quiet_mode=True, skip_context_files=True, skip_memory=True, herald_prompt=False, persist_session=False,
    max_continuations=0, enabled_toolsets=(),
)
"""What every batch agent is, whatever the run's settings: nothing read from or stored for the user,
no Herald prompt (a row holds what the sample needed), no toolsets unless asked, no continued
answer unless asked (an answer's length is the sample's)."""


@dataclass(frozen=True)
class AgentConfig:
    """How every sample's agent is built (picklable: Ray workers receive it).

    Attributes:
        agent: the provider and agent settings (the CLI's, over `BATCH_AGENT`); its toolsets
            are the ones offered; `yolo` runs dangerous commands, else they are refused (nobody
            can approve). Each attempt's agent gets them with its own working directory.
        system: the system text for samples that bring none.
        stream: stream each call (with fallback) rather than plain requests.
        workdir_root: where per-attempt working directories are made.
    """

    agent: AgentSettings
    system: str | None = None
    stream: bool = True
    workdir_root: Path = Path("batch.work")

    @property
    def model(self) -> str:
        """The model asked for."""
        return self.agent.model or ""

    @property
    def touches_machine(self) -> bool:
        """True when file or terminal tools are offered."""
        return bool(MACHINE_TOOLSETS.intersection(self.agent.enabled_toolsets or ()))

    def settings_for(self, cwd: Path) -> AgentSettings:
        """The settings of an agent whose tools and system prompt see `cwd`."""
        return self.agent.but(cwd=str(cwd))

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


@dataclass
class AttemptStats:
    """What one attempt's model calls added up to."""

    total: Usage | None = None
    fallbacks: int = 0
    rate_limited: int = 0
    model: str | None = None
    system_prompt: str | None = None

    def add(self, response: LLMResponse) -> None:
        if response.model:
            self.model = response.model
        self.total = add_usage(self.total, response.usage)

    @property
    def usage(self) -> dict[str, int]:
        """The row's `usage` (OpenAI's names, as fine-tuning data has them); {} when none was reported."""
        if self.total is None:
            return {}
        counts = {
            "prompt_tokens": self.total.prompt_tokens,
            "completion_tokens": self.total.completion_tokens,
            "total_tokens": self.total.total_tokens,
        }
        if self.total.reasoning_tokens is not None:
            counts["reasoning_tokens"] = self.total.reasoning_tokens
        return counts


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
    elif result.get("status") == "limited":
        status = "limited"
        error_type = "LimitReached"
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
        limit=result.get("limit"),
        finish_reason=result.get("finish_reason"),
        attempts=list(result.get("attempts") or []),
    )
