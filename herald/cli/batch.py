"""`herald batch INPUT -o OUTPUT` and `herald batch export OUTPUT --format F -o FILE`.

The command only parses, checks and wires: `herald.batch` does the work. Exit codes:
0 every sample completed, 1 some ended failed (or are unfinished), 2 usage or input
errors (nothing is run and the output is not touched), 3 none failed but a limit
(--max-time, --max-turns, --max-output-tokens) ended some, 130 stopped by Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from herald.batch.agent import BATCH_AGENT, BATCH_TOOLSETS, AgentConfig
from herald.batch.driver import Backend, BatchFiles, LocalBackend, Prepared, execute, prepare
from herald.batch.export import FORMATS, export
from herald.batch.progress import progress_for
from herald.batch.samples import MAX_SHOWN
from herald.batch.async_runner import AsyncRunner
from herald.batch.workdirs import default_root
from herald.cli.config import Settings, load_settings, require_provider
from herald.cli.errors import EXIT_OK, EXIT_USAGE
from herald.cli.local import local_provider, uses_local_model
from herald.errors import BatchFileError, ConfigError
from herald.llm.endpoint import API_MODES

DEFAULT_CONCURRENCY = 16
DEFAULT_TIME_LIMIT = 600.0
_GROUP_PROVIDER_FLAGS = ("model", "base_url", "api_key", "api_mode", "local_model", "continuation")


class _BatchGroup(click.Group):
    """`herald batch INPUT …` runs a batch; `herald batch export …` exports one.

    Running is what `herald batch` is for, so its help shows the run options, and a bare
    `herald batch` prints the usage lines, then one error line.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:
            click.echo(self.get_usage(ctx), err=True)
            raise click.UsageError("missing INPUT and -o OUTPUT", ctx)
        if args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "INPUT -o OUTPUT [OPTIONS]")
        formatter.write_usage(ctx.command_path, "export OUTPUT --format openai|sharegpt -o FILE", prefix="       ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.commands["run"].format_options(ctx, formatter)
        with formatter.section("Commands"):
            formatter.write_dl([
                ("export", "Write the completed conversations of an OUTPUT as training data "
                           "(herald batch export --help)."),
            ])


@click.group("batch", cls=_BatchGroup)
def batch_group() -> None:
    """Run many samples through the agent: herald batch INPUT.jsonl -o OUTPUT.jsonl.

    Each input line is {"id": ..., "prompt": "..."} or {"id": ..., "messages": [...]}
    (optional "system", "metadata"). The output gets one row per finished attempt. Run the
    same command again to resume: completed ids are never run again.
    """


@batch_group.command("run")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", "output_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The JSONL output (appended to; resumed from).")
@click.option("--model", help="Model name as the provider spells it. [env HERALD_MODEL]")
@click.option("--base-url", help="API root URL. [env HERALD_BASE_URL]")
@click.option("--api-key", help="API key. [env HERALD_API_KEY]")
@click.option("--api-mode", type=click.Choice(API_MODES), help="Wire protocol (detected when omitted).")
@click.option("--no-stream", is_flag=True, help="Plain requests instead of streams.")
@click.option("--continuation", type=click.Choice(["auto", "prefill", "off"]),
              help="When a stream breaks after text was shown, continue the answer from it (auto: where the server "
                   "is known to support it). [config: continuation]")
@click.option("--concurrency", type=click.IntRange(min=1), default=DEFAULT_CONCURRENCY, show_default=True,
              help="Samples at once (halved on 429, grown back after).")
@click.option("--max-attempts", type=click.IntRange(min=1), default=3, show_default=True,
              help="Failed attempts after which a sample counts as failed.")
@click.option("--toolsets", metavar="LIST", default="", help="Comma list of toolsets (terminal,file,web). Default: none.")
@click.option("--max-iterations", type=click.IntRange(min=1), default=50, show_default=True,
              help="Model calls per sample before giving up.")
@click.option("--system", "system_text", metavar="TEXT", help="System text for samples that bring none.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds per attempt (0: none).")
@click.option("--max-tokens", type=click.IntRange(min=1), metavar="N", help="Cap each answer at N tokens (not continued unless max_continuations says so).")
@click.option("--max-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="End a sample after SECONDS (every attempt included): its row says status \"limited\".")
@click.option("--max-turns", type=click.IntRange(min=1), metavar="N", help="At most N model calls per sample, else \"limited\".")
@click.option("--max-output-tokens", type=click.IntRange(min=1), metavar="N",
              help="At most N output tokens summed over a sample's model calls, else \"limited\".")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False),
              help="Where per-sample working directories go (default: OUTPUT's name + .work, beside it).")
@click.option("--yolo", is_flag=True, help="Run dangerous commands (otherwise refused: nobody can approve).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@click.option("--ray", "ray_address", metavar="ADDRESS", help="Run on Ray: a cluster's host:port, 'auto', or 'local'.")
@click.option("--ray-workers", type=click.IntRange(min=1), help="Ray workers (default: one per node).")
@click.pass_context
def batch_run(ctx: click.Context, input_path: Path, output_path: Path, **options: Any) -> int:
    """Run every sample of INPUT; write a row per finished attempt to OUTPUT."""
    settings = _settings(ctx, options)
    files = _files(input_path, output_path, options["workdir"])
    toolsets = _toolsets(options["toolsets"])
    try:
        prepared = prepare(files, max_attempts=options["max_attempts"])
    except BatchFileError as error:
        _show_file_error(error)
        return EXIT_USAGE
    if options["ray_address"]:
        from herald.batch.ray_backend import require_ray

        require_ray()
        if uses_local_model(settings):
            raise ConfigError("--ray: the local model runs on this machine only; configure a provider (--base-url, --api-key)")
    require_provider(settings)
    with local_provider(settings) as ready:
        config = _agent_config(ready, toolsets, files, options)
        summary_code = _execute(prepared, config, ready, options)
    return summary_code


def _execute(prepared: Prepared, config: AgentConfig, settings: Settings, options: dict[str, Any]) -> int:
    time_limit = options["time_limit"] or None
    backend: Backend
    if prepared.tally.to_run == 0:  # resuming a finished batch: no cluster to connect to
        backend = LocalBackend(AsyncRunner(config), options["concurrency"], time_limit, name="nothing to run")
    elif options["ray_address"]:
        from herald.batch.ray_backend import RayBackend

        backend = RayBackend(config, address=options["ray_address"], concurrency=options["concurrency"],
                             time_limit=time_limit, workers=options["ray_workers"])
    else:
        backend = LocalBackend(AsyncRunner(config, concurrency=options["concurrency"]), options["concurrency"], time_limit)
    progress = progress_for(sys.stderr)
    # stdout carries the --json summary only: whatever a library prints meanwhile (Ray prints
    # its workers' deaths to stdout) goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        summary = asyncio.run(execute(prepared, backend, progress, secrets=_secrets(settings, config)))
    for line in summary.lines():
        click.echo(line, err=True)
    if options["as_json"]:
        click.echo(json.dumps(summary.as_dict()))
    return summary.exit_code


@batch_group.command("export")
@click.argument("source", metavar="OUTPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="openai: {messages}; sharegpt: {id, conversations}.")
@click.option("-o", "--output", "target", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The file to write (replaced atomically).")
def batch_export(source: Path, fmt: str, target: Path) -> int:
    """Write the completed conversations of a batch OUTPUT, one per id."""
    if _same_file(source, target):
        raise click.UsageError("-o must not be the batch output itself")
    if not target.resolve().parent.is_dir():
        raise ConfigError(f"{target}: the directory {target.resolve().parent} does not exist")
    try:
        result = export(source, target, fmt)
    except BatchFileError as error:
        _show_file_error(error)
        return EXIT_USAGE
    click.echo(f"exported {result.exported} conversations to {target} ({fmt})", err=True)
    if result.without_completion:
        click.echo(f"left out {result.without_completion} ids that have no completed row", err=True)
    if result.torn_last_line:
        click.echo(f"skipped a torn last line in {source} (a run was stopped mid-write; resuming repairs it)", err=True)
    return EXIT_OK


# ── checking the command line ───────────────────────────────────────────


def _settings(ctx: click.Context, options: dict[str, Any]) -> Settings:
    """The main command's provider settings, with this command's flags on top."""
    parent = ctx.find_root().params
    flags: dict[str, Any] = {key: parent.get(key) for key in _GROUP_PROVIDER_FLAGS}
    flags["local"] = True if parent.get("local") else None
    flags["max_tokens"] = parent.get("max_tokens")
    for key in ("model", "base_url", "api_key", "api_mode", "continuation", "max_tokens", "max_time", "max_turns", "max_output_tokens"):
        if options[key] is not None:
            flags[key] = options[key]
    if options["no_stream"] or parent.get("no_stream"):
        flags["stream"] = False
    return load_settings(flags)


def _files(input_path: Path, output_path: Path, workdir: Path | None) -> BatchFiles:
    if _same_file(input_path, output_path):
        raise click.UsageError("-o must not be the input file")
    output = output_path.resolve()
    if not output.parent.is_dir():
        raise ConfigError(f"{output_path}: the directory {output.parent} does not exist")
    return BatchFiles(input_path, output, (workdir or default_root(output)).resolve())


def _toolsets(value: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in value.split(",") if part.strip() and part.strip() != "none")
    unknown = [name for name in names if name not in BATCH_TOOLSETS]
    if unknown:
        extra = " (memory is per user, not per sample)" if "memory" in unknown else ""
        raise ConfigError(f"--toolsets: unknown or unavailable in batch: {', '.join(unknown)}; choose from {', '.join(BATCH_TOOLSETS)}{extra}")
    return names


def _agent_config(settings: Settings, toolsets: tuple[str, ...], files: BatchFiles, options: dict[str, Any]) -> AgentConfig:
    # Resolved here, once: a Ray worker's environment is not the driver's.
    endpoint = settings.endpoint()
    agent = settings.agent_settings(headless=True, base=BATCH_AGENT).but(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        api_mode=endpoint.api_mode,
        enabled_toolsets=toolsets,
        yolo=options["yolo"],
        max_iterations=options["max_iterations"],
        mcp_servers=None,  # a batch offers no MCP tools
    )
    return AgentConfig(agent, system=options["system_text"], stream=settings.stream, workdir_root=files.workdir)


def _secrets(settings: Settings, config: AgentConfig) -> tuple[str | None, ...]:
    """Every key that could reach a row: the primary's, its pool's, every fallback's."""
    return (config.agent.api_key, *settings.api_keys, *(key for f in settings.fallbacks() for key in f.keys))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _show_file_error(error: BatchFileError) -> None:
    for problem in error.problems[:MAX_SHOWN]:
        click.echo(f"herald: error: {error.path}: {problem}", err=True)
    if error.total > len(error.problems):
        click.echo(f"herald: error: {error.path}: {error.total - len(error.problems)} more problems not shown", err=True)
    click.echo("herald: nothing was run", err=True)
