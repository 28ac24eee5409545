"""`herald serve --config FILE [--host H] [--port P] [--workers N]`: parse, check, run `herald.serve`.

Exit codes: 0 after SIGTERM / SIGINT, 2 a bad config file or flag (one line naming the file
and key), 1 the address cannot be bound.
"""

from __future__ import annotations

from pathlib import Path

import click

from herald.cli.errors import ERROR_PREFIX, EXIT_FAILED, EXIT_OK


@click.command("serve")
@click.option("--config", "config_file", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The gateway's TOML file: keys, [[models]] and their providers (see docs/gateway.md).")
@click.option("--host", default=None, help="Address to listen on (default: the file's host, else 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: the file's port, else 8080; 0: any free port).")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Processes sharing the socket (each has its own circuit breaker and metrics).")
def serve_command(config_file: Path, host: str | None, port: int | None, workers: int) -> int:
    """An OpenAI- and Anthropic-compatible gateway: /v1/chat/completions, /v1/messages, /v1/responses, /v1/models."""
    from herald.serve.config import load_config
    from herald.serve.metrics import require_extra
    from herald.serve.server import serve

    require_extra()
    config = load_config(config_file, host=host, port=port)
    try:
        return serve(config, workers=workers, announce=lambda line: click.echo(line, err=True)) or EXIT_OK
    except OSError as error:
        click.echo(f"{ERROR_PREFIX}cannot listen on {config.host}:{config.port}: {error.strerror or error}", err=True)
        return EXIT_FAILED


__all__ = ["serve_command"]
