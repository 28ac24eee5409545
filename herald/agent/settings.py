"""`AgentSettings`: one frozen value for everything an agent is built from.

Both agents, the CLI and `herald batch` build their agents from it: the CLI resolves its config
file, environment and flags into one (`herald.cli.config.Settings.agent_settings`), batch ships
one to its workers (it is picklable), and `AIAgent(...)` / `AsyncAIAgent(...)` make one from their
keyword arguments. What is not a setting stays out: callbacks, a session id or store, live objects.

    settings = AgentSettings(model="gpt-4o-mini", max_tokens=512, fallback=({"model": "local"},))
    agent = AIAgent.from_settings(settings, stream_delta_callback=print)
    settings.client_options()   # the provider part, as `herald.Client` takes it
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Mapping

from herald.agent.limits import TurnLimits
from herald.errors import ConfigError

CLIENT_FIELDS = (
    "model",
    "base_url",
    "api_key",
    "api_keys",
    "api_mode",
    "fallback",
    "continuation",
    "stream_first_byte_timeout",
    "stream_idle_timeout",
    "stream_total_timeout",
    "stream_first_token_timeout",
    "request_timeout",
    "max_retries",
    "failover_cooldown",
    "call_timeout",
    "failover_on_content_policy",
)
"""The settings that are the transport's (`herald.Client`'s arguments)."""


@dataclass(frozen=True)
class AgentSettings:
    """How an agent is built; the meaning of each field is `AIAgent`'s argument of that name.

    Sequences are tuples (the value is frozen and picklable); `mcp_servers` is kept as given
    (validated when the agent is built). Keys are never shown in its repr.
    """

    # ── the provider (the transport's: `client_options()`) ──
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_keys: tuple[str, ...] | None = field(default=None, repr=False)
    api_mode: str | None = None
    fallback: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    continuation: str | None = None
    stream_first_byte_timeout: float | None = None
    stream_idle_timeout: float | None = None
    stream_total_timeout: float | None = None
    stream_first_token_timeout: float | None = None
    request_timeout: float = 600.0
    max_retries: int = 3
    failover_cooldown: float | None = None
    call_timeout: float | None = None
    failover_on_content_policy: bool = False
    # ── the agent ──
    max_iterations: int = 50
    max_tokens: int | None = None
    max_continuations: int = 3
    max_context_tokens: int | None = None
    temperature: float | None = None
    max_time: float | None = None
    max_turns: int | None = None
    max_output_tokens: int | None = None
    quiet_mode: bool = False
    skip_context_files: bool = False
    skip_memory: bool = False
    herald_prompt: bool = True
    yolo: bool = False
    enabled_toolsets: tuple[str, ...] | None = None
    disabled_toolsets: tuple[str, ...] | None = None
    cwd: str | None = None
    persist_session: bool = True
    mcp_servers: Any = None

    def __post_init__(self) -> None:
        if self.max_iterations < 1:
            raise ConfigError(f"max_iterations must be at least 1, got {self.max_iterations}")
        for name in ("api_keys", "enabled_toolsets", "disabled_toolsets"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                if isinstance(value, str):
                    raise ConfigError(f"{name} must be a list of strings, not one string")
                object.__setattr__(self, name, tuple(value))
        if not isinstance(self.fallback, tuple):
            object.__setattr__(self, "fallback", tuple(self.fallback or ()))
        if self.cwd is not None and not isinstance(self.cwd, str):
            object.__setattr__(self, "cwd", str(self.cwd))
        TurnLimits(self.max_time, self.max_turns, self.max_output_tokens)  # a bad limit fails here, not at the first turn

    @classmethod
    def of(cls, model: str | None = None, **options: Any) -> AgentSettings:
        """Settings from keyword arguments, an unknown name being a one-line `ConfigError`."""
        unknown = sorted(set(options) - FIELD_NAMES)
        if unknown:
            raise ConfigError(f"unknown agent setting {unknown[0]!r}")
        return cls(model=model, **options)

    def but(self, **changes: Any) -> AgentSettings:
        """A copy with `changes` (the value itself never changes)."""
        return replace(self, **changes)

    def client_options(self) -> dict[str, Any]:
        """The provider part, as `herald.Client` / `herald.AsyncClient` take it (model excluded)."""
        options = {name: getattr(self, name) for name in CLIENT_FIELDS if name != "model"}
        options["api_keys"] = list(self.api_keys) if self.api_keys is not None else None
        options["fallback"] = list(self.fallback)
        return options

    @property
    def limits(self) -> TurnLimits:
        """The hard limits on each turn."""
        return TurnLimits(self.max_time, self.max_turns, self.max_output_tokens)


FIELD_NAMES = frozenset(f.name for f in fields(AgentSettings))
"""Every setting's name."""


@dataclass(frozen=True)
class Callbacks:
    """What an agent tells its caller as a turn runs; each is the `AIAgent` argument `<name>_callback`.

    None is nobody listening. Text callbacks receive the new text; `stream_reset` and
    `stream_continued` are called with no argument; `attempt` receives an `AttemptRecord`.
    """

    stream_delta: Callable[[str], object] | None = None
    reasoning: Callable[[str], object] | None = None
    stream_reset: Callable[[], object] | None = None
    stream_continued: Callable[[], object] | None = None
    tool_progress: Callable[[Any], object] | None = None
    approval: Callable[[Any], Any] | None = None
    notice: Callable[[str], object] | None = None
    attempt: Callable[[Any], object] | None = None

    @classmethod
    def of(cls, named: Mapping[str, Any]) -> Callbacks:
        """From `AIAgent`'s argument names (`stream_delta_callback=…`), an unknown one a `ConfigError`."""
        values: dict[str, Any] = {}
        for name, value in named.items():
            short = name.removesuffix("_callback")
            if not name.endswith("_callback") or short not in CALLBACK_NAMES:
                raise ConfigError(f"unknown agent callback {name!r}")
            values[short] = value
        return cls(**values)


CALLBACK_NAMES = frozenset(f.name for f in fields(Callbacks))
