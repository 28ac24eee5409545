"""Slash commands typed at the chat prompt: /help, /new, /retry, /model, /reasoning, /tools, /sessions, /usage, /quit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from rich.console import Console
from rich.text import Text

from herald.agent.core import AIAgent
from herald.agent.retry import RetryTurn, retry_turn
from herald.agent.usage import session_usage
from herald.cli.commands import list_sessions
from herald.cli.display import StreamDisplay
from herald.cli.summary import usage_text
from herald.cli.mcp import tools_lines


@dataclass
class ChatState:
    """What slash commands may look at and change between turns."""

    agent: AIAgent
    display: StreamDisplay
    console: Console
    history: list[dict[str, Any]] = field(default_factory=list)
    retry: RetryTurn | None = None
    """Set by /retry: the chat sends this turn again next."""


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    run: Callable[[ChatState, str], bool]  # returns False to leave the chat


def _help(state: ChatState, arg: str) -> bool:
    for command in COMMANDS.values():
        state.console.print(Text.assemble((f"{command.usage:<22}", "bold"), command.help))
    state.console.print(Text("Enter sends; Esc-Enter (Alt-Enter) or a trailing \\ adds a line; Ctrl-D exits.", style="dim"))
    return True


def _new(state: ChatState, arg: str) -> bool:
    state.history.clear()
    state.agent.session_id = None  # the next message starts a new stored session
    state.console.print(Text("new conversation", style="dim"))
    return True


def _model(state: ChatState, arg: str) -> bool:
    if arg:
        _switch_model(state, arg)
    else:
        state.console.print(Text(f"model: {state.agent.model} (at {state.agent.base_url})", style="dim"))
    return True


def _switch_model(state: ChatState, name: str) -> None:
    """Switch to `name` if the provider's list has it; without a list, switch and say it is unchecked."""
    from herald.cli.models import check_model

    agent = state.agent
    check = check_model(agent, name)
    if check.listed is not None and not check.known:
        hint = f"did you mean {' or '.join(check.suggestions)}?" if check.suggestions else f"it lists {len(check.listed)}"
        state.console.print(Text(f"no model {name} at {agent.endpoint.host} ({hint}); still using {agent.model}", style="red"))
        return
    agent.model = name
    if check.context_window is not None:
        agent.max_context_tokens = check.context_window
    if check.known:
        state.console.print(Text(f"model: {name}", style="dim"))
    else:
        state.console.print(Text(f"model: {name} (not checked: {agent.endpoint.host} has no model list)", style="yellow"))


def _reasoning(state: ChatState, arg: str) -> bool:
    display = state.display
    if not hasattr(display, "show_reasoning"):
        state.console.print(Text("this display has no reasoning switch", style="dim"))
        return True
    if arg in ("on", "off"):
        display.show_reasoning = arg == "on"
    elif arg:
        state.console.print(Text("usage: /reasoning [on|off]", style="red"))
        return True
    state.console.print(Text(f"reasoning: {'on' if display.show_reasoning else 'off'}", style="dim"))
    return True


def _tools(state: ChatState, arg: str) -> bool:
    registry = state.agent.tools
    names = registry.names()
    state.console.print(Text("tools: " + (", ".join(names) if names else "(none)"), style="dim"))
    for name, why in registry.unavailable.items():
        state.console.print(Text(f"  {name} unavailable: {' '.join(why.split())}", style="dim"))
    for line in tools_lines(state.agent):  # MCP tools, by server
        state.console.print(Text(line, style="dim"), highlight=False)
    return True


def _sessions(state: ChatState, arg: str) -> bool:
    store = state.agent.session_store
    if store is None:
        state.console.print(Text("sessions are not being stored", style="dim"))
        return True
    list_sessions(store, lambda line: state.console.print(Text(line), highlight=False), limit=10)
    return True


def _usage(state: ChatState, arg: str) -> bool:
    totals = session_usage(state.history)
    if not totals.responses:
        state.console.print(Text("session: no usage reported yet", style="dim"))
        return True
    answers = f"{totals.responses} answer{'s' if totals.responses != 1 else ''}"
    state.console.print(Text(f"session: {answers} · {usage_text(totals)}", style="dim"))
    return True


def _retry(state: ChatState, arg: str) -> bool:
    turn = retry_turn(state.history)
    if turn is None:
        state.console.print(Text("nothing to retry: the last turn has its answer", style="dim"))
    state.retry = turn
    return True


def _quit(state: ChatState, arg: str) -> bool:
    return False


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("help", "/help", "this list", _help),
        Command("new", "/new", "start a new conversation", _new),
        Command("retry", "/retry", "send the last turn again (it failed or was interrupted)", _retry),
        Command("model", "/model [NAME]", "show or switch the model", _model),
        Command("reasoning", "/reasoning [on|off]", "show or hide the model's reasoning", _reasoning),
        Command("tools", "/tools", "the tools the model may use", _tools),
        Command("sessions", "/sessions", "recent stored sessions (resume with herald --resume ID)", _sessions),
        Command("usage", "/usage", "tokens used in this session so far", _usage),
        Command("quit", "/quit", "leave (also /exit, Ctrl-D)", _quit),
    )
}
_ALIASES = {"exit": "quit", "q": "quit", "?": "help"}


def is_slash(text: str) -> bool:
    return text.startswith("/") and not text.startswith("//")


def run_slash(state: ChatState, text: str) -> bool:
    """Run one slash command line; False means "leave the chat"."""
    name, _, arg = text[1:].strip().partition(" ")
    name = _ALIASES.get(name.lower(), name.lower())
    command = COMMANDS.get(name)
    if command is None:
        state.console.print(Text(f"unknown command /{name} — /help lists them", style="red"))
        return True
    return command.run(state, arg.strip())
