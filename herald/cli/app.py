"""The `herald` command line: parse arguments, pick a mode, map errors to exit codes.

`cli(args) -> int` is the whole program, callable from tests; `main()` exits with it.
"""

from __future__ import annotations

import logging
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Sequence

import click

from herald.version import __version__
from herald.cli import commands
from herald.cli.batch import batch_group
from herald.cli.local_serve import local_group
from herald.cli.serve import serve_command
from herald.cli.config import Settings, load_settings, require_provider
from herald.cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ERROR_PREFIX,
    describe_exception,
)
from herald.cli.local import local_provider
from herald.cli.resume import resolve_resume
from herald.errors import ConfigError, HeraldError
from herald.llm.endpoint import API_MODES
from herald.sessions import SessionStore


@dataclass
class RunState:
    """Shared by the group and its subcommands (click's `ctx.obj`)."""

    debug: bool = False
    settings: Settings | None = None
    json_events: bool = False


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Herald: chat with a tool-using AI agent whose stream never breaks.\n\n"
    "Without a subcommand: interactive chat, or one answer with -q (or piped stdin).",
)
@click.option(
    "-q", "--query", is_flag=False, flag_value="-", default=None, metavar="QUESTION",
    help="Ask one question, print the answer and exit. '-' (or -q alone) reads it from stdin.",
)
@click.option("--model", help="Model name as the provider spells it. [env HERALD_MODEL]")
@click.option("--base-url", help="API root URL. [env HERALD_BASE_URL]")
@click.option("--api-key", help="API key. [env HERALD_API_KEY]")
@click.option("--api-mode", type=click.Choice(API_MODES), help="Wire protocol (detected when omitted). [env HERALD_API_MODE]")
@click.option("--no-stream", is_flag=True, default=False, help="Plain requests; print the answer when complete.")
@click.option("--resume", "resume_id", metavar="ID", help="Continue a stored session (id or unique prefix).")
@click.option("-c", "--continue", "continue_last", is_flag=True, help="Continue the last session (of this directory if any).")
@click.option("--toolsets", metavar="LIST", help="Comma list of toolsets to offer (terminal,file,web,memory).")
@click.option("--yolo", is_flag=True, default=False, help="Run dangerous commands without asking.")
@click.option("--show-reasoning/--hide-reasoning", default=None, help="Show the model's reasoning (default: on a terminal).")
@click.option("--local", is_flag=True, default=False,
              help="Run the bundled local model on this machine (needs herald[local]); the default when no provider is configured.")
@click.option("--local-model", metavar="PATH.gguf", help="Serve this GGUF model locally instead of the bundled one. [env HERALD_LOCAL_MODEL]")
@click.option("--max-tokens", type=click.IntRange(min=1), metavar="N", help="Cap each answer at N tokens (local model: 256).")
@click.option("--max-context-tokens", type=click.IntRange(min=256), metavar="N",
              help="The model's context window; older history is left out to fit it. [env HERALD_MAX_CONTEXT_TOKENS]")
@click.option("--max-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="End the run after SECONDS (every attempt and tool included); exit 3 with the best answer so far.")
@click.option("--max-turns", type=click.IntRange(min=1), metavar="N",
              help="At most N model calls in the turn; exit 3 when the model wants more.")
@click.option("--max-output-tokens", type=click.IntRange(min=1), metavar="N",
              help="At most N output tokens summed over the turn's model calls; exit 3 past it.")
@click.option("--retry", "retry_last", is_flag=True, default=False,
              help="With -c or --resume: send the session's last user turn again (it failed or was interrupted).")
@click.option("--continuation", type=click.Choice(["auto", "prefill", "off"]),
              help="When a stream breaks after text was shown, continue the answer from it (auto: where the server is known to support it).")
@click.option("--json", "json_events", is_flag=True, default=False,
              help="With -q or piped input: the turn as JSON Lines events on stdout (schema in the README).")
@click.option("--debug", is_flag=True, help="Debug logging, and tracebacks for errors.")
@click.version_option(__version__, "--version", prog_name="herald", message="%(prog)s %(version)s")
@click.pass_context
def herald_command(
    ctx: click.Context,
    query: str | None,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    api_mode: str | None,
    no_stream: bool,
    resume_id: str | None,
    continue_last: bool,
    toolsets: str | None,
    yolo: bool,
    show_reasoning: bool | None,
    local: bool,
    local_model: str | None,
    max_tokens: int | None,
    max_context_tokens: int | None,
    max_time: float | None,
    max_turns: int | None,
    max_output_tokens: int | None,
    retry_last: bool,
    continuation: str | None,
    json_events: bool,
    debug: bool,
) -> int:
    state: RunState = ctx.ensure_object(RunState)
    state.debug = debug
    state.json_events = json_events and ctx.invoked_subcommand is None
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")
    flags: dict[str, Any] = {
        "model": model,
        "base_url": base_url,
        "api_key": api_key,
        "api_mode": api_mode,
        "stream": False if no_stream else None,  # only an explicit flag overrides the file
        "toolsets": toolsets,
        "yolo": True if yolo else None,
        "show_reasoning": show_reasoning,
        "local": True if local else None,
        "local_model": local_model,
        "max_tokens": max_tokens,
        "max_context_tokens": max_context_tokens,
        "max_time": max_time,
        "max_turns": max_turns,
        "max_output_tokens": max_output_tokens,
        "continuation": continuation,
    }
    state.settings = load_settings(flags)
    if ctx.invoked_subcommand is not None:
        return EXIT_OK
    if retry_last:
        return _retry(state.settings, query, resume_id, continue_last, json_events=json_events)
    question = _question(query)
    if json_events and question is None:
        raise click.UsageError("--json needs a question: -q QUESTION, or pipe it on stdin")
    with SessionStore() as store:
        resumed = resolve_resume(store, resume_id, continue_last)
    require_provider(state.settings)  # fail before the first prompt (or request), saying how to fix it
    with local_provider(state.settings) as settings:
        if question is not None:
            from herald.cli.oneshot import run_oneshot

            return run_oneshot(settings, question, resumed, json_events=json_events)
        from herald.cli.chat import run_chat

        return run_chat(settings, resumed)


def _retry(settings: Settings, query: str | None, resume_id: str | None, continue_last: bool, *, json_events: bool) -> int:
    """`herald -c --retry`: send the session's last user turn again, when it has no answer.
    Needs no question and never reads stdin."""
    from dataclasses import replace

    from herald.agent.retry import retry_turn
    from herald.cli.oneshot import run_oneshot

    if query is not None:
        raise click.UsageError("--retry sends the last turn again: give no question (-q)")
    if not (resume_id or continue_last):
        raise click.UsageError("--retry needs the session: -c (the last one) or --resume ID")
    with SessionStore() as store:
        resumed = resolve_resume(store, resume_id, continue_last)
    if resumed.session_id is None:
        raise ConfigError("--retry: there is no session to retry")
    turn = retry_turn(resumed.history)
    if turn is None:
        raise ConfigError(f"--retry: the last turn of session {resumed.session_id} was answered; nothing to retry")
    require_provider(settings)
    with local_provider(settings) as ready:
        resumed = replace(resumed, history=turn.history)
        return run_oneshot(ready, turn.user_message, resumed, json_events=json_events, resend=True)


def _question(query: str | None) -> str | None:
    """The one-shot question, if this is a one-shot run: -q TEXT, -q - / -q, or piped stdin."""
    if query is None and sys.stdin.isatty():
        return None
    if query is None or query == "-":
        text = sys.stdin.read() if not sys.stdin.isatty() else ""
        if not text.strip():
            raise click.UsageError("no question: pass -q QUESTION, or pipe the question on stdin")
        return text.strip()
    if not query.strip():
        raise click.UsageError("the question is empty")
    return query


@herald_command.command("config")
@click.pass_obj
def config_command(state: RunState) -> int:
    """Show the effective settings and where each came from (keys masked)."""
    assert state.settings is not None
    commands.show_config(state.settings, click.echo)
    return EXIT_OK


@herald_command.group("sessions", invoke_without_command=True)
@click.pass_context
def sessions_group(ctx: click.Context) -> int:
    """Stored conversations: list (default), show ID, search TEXT, delete ID."""
    if ctx.invoked_subcommand is None:
        with SessionStore() as store:
            commands.list_sessions(store, click.echo)
    return EXIT_OK


@sessions_group.command("list")
@click.option("-n", "--limit", default=20, show_default=True, help="How many sessions.")
def sessions_list(limit: int) -> int:
    """The most recent sessions first."""
    with SessionStore() as store:
        commands.list_sessions(store, click.echo, limit)
    return EXIT_OK


@sessions_group.command("show")
@click.argument("session_id", metavar="ID")
def sessions_show(session_id: str) -> int:
    """One session's messages (ID or a unique prefix)."""
    with SessionStore() as store:
        commands.show_session(store, session_id, click.echo)
    return EXIT_OK


@sessions_group.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("-n", "--limit", default=20, show_default=True, help="How many hits.")
def sessions_search(text: tuple[str, ...], limit: int) -> int:
    """Messages containing every word of TEXT."""
    with SessionStore() as store:
        commands.search_sessions(store, " ".join(text), click.echo, limit)
    return EXIT_OK


@sessions_group.command("delete")
@click.argument("session_id", metavar="ID")
def sessions_delete(session_id: str) -> int:
    """Delete a session and its messages."""
    with SessionStore() as store:
        commands.delete_session(store, session_id, click.echo)
    return EXIT_OK


@herald_command.group("mcp", invoke_without_command=True)
@click.pass_context
def mcp_group(ctx: click.Context) -> int:
    """MCP servers: list (default) connects to each and shows its state and tools."""
    if ctx.invoked_subcommand is None:
        return int(ctx.invoke(mcp_list))
    return EXIT_OK


@mcp_group.command("list")
@click.pass_obj
def mcp_list(state: RunState) -> int:
    """Every configured MCP server: connected or why not, and its tools."""
    from herald.cli.mcp import list_servers

    assert state.settings is not None
    return list_servers(state.settings, click.echo)


herald_command.add_command(batch_group)
herald_command.add_command(local_group)
herald_command.add_command(serve_command)


def cli(args: Sequence[str] | None = None) -> int:
    """Run `herald` with `args` (default: sys.argv[1:]); return the exit code, never raise."""
    state = RunState()
    try:
        return _run(args, state)
    finally:
        from herald import telemetry

        telemetry.shutdown()  # export the run's spans before the process ends (when tracing is on)


def _run(args: Sequence[str] | None, state: RunState) -> int:
    try:
        result = herald_command.main(
            list(args) if args is not None else None, prog_name="herald", standalone_mode=False, obj=state
        )
    except click.exceptions.Abort:
        return EXIT_INTERRUPTED
    except click.ClickException as error:
        _report_usage(error)
        _json_error(state, error.format_message(), type(error).__name__)
        return error.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except HeraldError as error:
        _report(error, state)
        return describe_exception(error).exit_code
    except Exception as error:  # a bug: one line, or the traceback with --debug
        _report(error, state)
        return EXIT_FAILED
    return result if isinstance(result, int) else EXIT_OK


def _report(error: BaseException, state: RunState) -> None:
    if state.debug:
        traceback.print_exc(file=sys.stderr)
    secrets = (state.settings.api_key,) if state.settings is not None else ()
    failure = describe_exception(error, secrets)
    click.echo(f"{ERROR_PREFIX}{failure.message}", err=True)
    _json_error(state, failure.message, type(error).__name__)


def _report_usage(error: click.ClickException) -> None:
    """click's own errors (unknown option, bad value) in Herald's one-line form."""
    message = " ".join(error.format_message().split())
    if isinstance(error, click.UsageError):
        command = error.ctx.command_path if error.ctx is not None else "herald"
        message += f" (see: {command} --help)"
    click.echo(f"{ERROR_PREFIX}{message}", err=True)


def _json_error(state: RunState, message: str, error_type: str) -> None:
    """With --json, a failure outside the turn is an `error` event on stdout too."""
    if state.json_events:
        from herald.cli.json_events import JsonLines, error_event

        secrets = (state.settings.api_key,) if state.settings is not None else ()
        JsonLines(sys.stdout, secrets).write(error_event(message, error_type))


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli())


__all__ = ["EXIT_USAGE", "cli", "main"]
