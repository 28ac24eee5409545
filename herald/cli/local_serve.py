"""`herald local serve --port 8080`: the bundled local model as an OpenAI-compatible server.

Anything that speaks chat completions can then use it at `http://127.0.0.1:PORT/v1` (model
name `gemma-3-270m`, no key), for as long as the command runs; Ctrl-C stops it.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from herald.cli.errors import EXIT_OK
from herald.cli.local import LOCAL_N_CTX, StartProgress


@click.group("local")
def local_group() -> None:
    """The bundled local model (herald[local]): serve it on a port of this machine."""


@local_group.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="The loopback port to serve on.")
@click.option("--local-model", metavar="PATH.gguf", help="Serve this GGUF model instead of the bundled one.")
def local_serve(port: int, local_model: str | None) -> int:
    """Serve the local model on 127.0.0.1:PORT until Ctrl-C (or SIGTERM)."""
    import sys

    from herald.local import start_local_provider

    with StartProgress(sys.stderr):
        provider = start_local_provider(local_model, n_ctx=LOCAL_N_CTX, port=port)
    with provider:
        click.echo(f"serving {provider.model} at {provider.base_url} (chat completions, no key); Ctrl-C stops it", err=True)
        _wait_for_stop()
    return EXIT_OK


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
