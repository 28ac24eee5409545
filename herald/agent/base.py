"""`AgentCore`: an agent's I/O-free side, shared by `AIAgent` and `AsyncAIAgent`.

It holds what an agent is apart from waiting: its settings, tools and MCP servers, the system
prompt, sessions, the context budget, and the requests built from a history. Neither agent has
its own copy of any of it; they differ only in how they send requests and run tools (httpx's
`Client` / `AsyncClient` split over one base is the model).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from herald.agent.settings import AgentSettings
from herald.context.budget import ContextBudget
from herald.llm.wire import Wire, add_body_fields

if TYPE_CHECKING:
    from herald.context.memory import MemoryStore
    from herald.mcp.config import MCPServerConfig
    from herald.mcp.manager import MCPManager
    from herald.sessions import SessionStore
    from herald.tools.approval import ApprovalRequest, Decision
    from herald.tools.base import ToolContext
    from herald.tools.registry import ToolRegistry

log = logging.getLogger("herald.agent")


class AgentCore:
    """Settings, tools, prompt, sessions, context budget and request building; no I/O to a provider.

    Args:
        settings: what the agent is built from.
        session_id: continue this stored session (None: each turn that needs one creates it).
        session_store: the store (default: the user's data directory, opened on first use).
        notice: receives one-line notes for the user (each said once in a row).
    """

    def __init__(
        self,
        settings: AgentSettings,
        *,
        session_id: str | None = None,
        session_store: SessionStore | None = None,
        notice: Callable[[str], object] | None = None,
    ) -> None:
        self.settings = settings
        self.cwd = Path(settings.cwd or os.getcwd()).resolve()
        self.session_id = session_id
        """The session every turn continues (None until the first turn creates one)."""
        self.mcp_servers = _mcp_servers(settings.mcp_servers)
        self._session_store = session_store
        self._context = ContextBudget(settings.max_context_tokens, settings.max_tokens)
        self._notice = notice
        self._last_note = ""
        self._tools: ToolRegistry | None = None
        self._memory: MemoryStore | None = None
        self._mcp: MCPManager | None = None

    # ── the context window ──────────────────────────────────────────────

    @property
    def max_context_tokens(self) -> int | None:
        """The context window in tokens, as far as known (set, or learned from the provider)."""
        return self._context.limit

    @max_context_tokens.setter
    def max_context_tokens(self, value: int | None) -> None:
        self._context.limit = value

    def learn_overflow(self, error: BaseException) -> bool:
        """True when `error` is a context-length error: the window is learned from it, so the
        next `build_request` leaves out enough old history (or raises ContextOverflow)."""
        return self._context.learn(error)

    # ── the turn ────────────────────────────────────────────────────────

    def prepare_turn(self, user_message: str, system_message: str | None) -> str:
        """The turn's system prompt, once the message is known to fit in the context window.

        Raises:
            herald.errors.HeraldError: e.g. `ContextOverflow` for a message that alone does not fit.
        """
        system_prompt = self.system_prompt(system_message)
        self._context.reserve = self.settings.max_tokens
        self._context.check_message(system_prompt, user_message, self.tools.schemas() or None)
        return system_prompt

    def system_prompt(self, system_message: str | None) -> str:
        """The system prompt a turn with `system_message` is sent (empty: none is sent)."""
        from herald.context.prompt import build_system_prompt

        return build_system_prompt(
            system_message,
            cwd=self.cwd,
            skip_context_files=self.settings.skip_context_files,
            memory=self.memory(),
            herald_prompt=self.settings.herald_prompt,
        )

    def build_request(self, system_prompt: str, messages: list[dict[str, Any]], *, wire: Wire, model: str) -> dict[str, Any]:
        """Native request arguments for `wire` and `model`, from Herald's chat-format history
        brought under the context window (a note says what was left out)."""
        from herald.agent.messages import for_api

        settings = self.settings
        tools = self.tools.schemas() or None
        self._context.reserve = settings.max_tokens
        fitted = self._context.fit(system_prompt, messages, tools)
        self.notice(fitted.note)
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []  # none: no system message
        history = for_api([*system, *fitted.messages], keep_replay_data=True)
        kwargs = wire.build_kwargs(model, history, tools, max_tokens=settings.max_tokens)
        if settings.temperature is not None:
            add_body_fields(kwargs, {"temperature": settings.temperature})
        return kwargs

    def notice(self, note: str) -> None:
        """Tell the user `note` (the same note before every call of a tool loop would be noise: once)."""
        if not note or note == self._last_note:
            return
        self._last_note = note
        if self._notice is not None:
            try:
                self._notice(note)
            except Exception:  # a display bug must not stop the agent
                log.debug("notice callback raised; ignored", exc_info=True)

    def memory(self) -> MemoryStore | None:
        """The persistent memory (None with `skip_memory`), opened on first use."""
        if self.settings.skip_memory:
            return None
        if self._memory is None:
            from herald.context.memory import MemoryStore

            self._memory = MemoryStore()
        return self._memory

    # ── sessions ────────────────────────────────────────────────────────

    @property
    def session_store(self) -> SessionStore | None:
        """The session database, opened on first use; None when not persisting."""
        if not self.settings.persist_session:
            return None
        if self._session_store is None:
            from herald.sessions import SessionStore

            self._session_store = SessionStore()
        return self._session_store

    def new_session(self, first_message: str, *, model: str, base_url: str) -> str | None:
        """A new stored session titled by `first_message` (None when not persisting)."""
        store = self.session_store
        if store is None:
            return None
        return store.create_session(model=model, base_url=base_url, cwd=str(self.cwd), title=first_message)

    def persist(self, session_id: str | None, message: dict[str, Any]) -> None:
        """Append `message` to the session (nothing when not persisting)."""
        store = self.session_store
        if store is not None and session_id is not None:
            store.append_message(session_id, message)

    def drop_session(self, session_id: str) -> None:
        """Delete a stored session (one created for a message the provider refused)."""
        store = self.session_store
        if store is not None:
            store.delete_session(session_id)

    # ── tools ───────────────────────────────────────────────────────────

    @property
    def tools(self) -> ToolRegistry:
        """The tools offered to the model, built on first use (MCP servers' included)."""
        if self._tools is None:
            from herald.tools.registry import ToolRegistry

            settings = self.settings
            registry = ToolRegistry.from_toolsets(
                list(settings.enabled_toolsets) if settings.enabled_toolsets is not None else None,
                settings.disabled_toolsets or (),
                memory_enabled=not settings.skip_memory,
            )
            manager = self.mcp
            self._tools = registry.with_tools(manager.tools()) if manager is not None else registry
        return self._tools

    def tool_context(
        self, approval: Callable[[ApprovalRequest], Decision] | None, is_interrupted: Callable[[], bool]
    ) -> ToolContext:
        """What a tool runs with: the working directory, the approval gate, the memory."""
        from herald.tools.approval import ApprovalGate
        from herald.tools.base import ToolContext

        gate = ApprovalGate(approval, yolo=self.settings.yolo)
        return ToolContext(cwd=self.cwd, approval=gate, memory=self.memory(), is_interrupted=is_interrupted)

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
        """Stop the MCP servers (their tools go with them). Idempotent; using them again restarts them."""
        manager, self._mcp = self._mcp, None
        if manager is not None:
            self._tools = None
            manager.close()


def _mcp_servers(value: Any) -> tuple[MCPServerConfig, ...]:
    if not value:
        return ()
    from herald.mcp import parse_mcp_servers, require_mcp

    servers = parse_mcp_servers(value, source="mcp_servers")
    if any(server.enabled for server in servers):
        require_mcp()
    return servers
