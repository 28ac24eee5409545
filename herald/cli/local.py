"""Run the bundled local model for the length of a CLI command, when the settings ask for it.

The settings the local model runs with are decided here, once, by `local_settings`: the
command runs with them and `herald config` shows them, so what it shows is what runs.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from herald.cli.config import Settings

LOCAL_MAX_TOKENS = 256
"""The answer cap for the local model: its answers end at a newline long before this."""
LOCAL_TEMPERATURE = 0.0
"""Greedy decoding: a small pretrained model sampled at the server's 0.8 wanders off."""
LOCAL_N_CTX = 4096
"""The local server's context window (the model allows 32k; 4096 keeps memory small)."""
LOCAL_URL_PLACEHOLDER = "http://127.0.0.1:<free port>/v1"

NOTICE = (
    "No provider configured: running {model} on this machine's CPU. It is a small pretrained "
    "model (not instruction-tuned) that shows the wire works: expect one-line answers, often wrong. "
    "For real answers set HERALD_API_KEY (or OPENROUTER_API_KEY); `herald config` shows what runs."
)
STARTING = "starting the local model…"
LOCAL_SOURCE = "local model"


def uses_local_model(settings: Settings) -> bool:
    return settings.local or settings.local_model is not None


def local_settings(settings: Settings, *, base_url: str, model: str, n_ctx: int) -> Settings:
    """What a command runs with on the local model at `base_url`.

    No tools unless asked for (the small model cannot choose them, and every schema lengthens
    a CPU prompt): neither toolsets nor MCP servers' tools, so what `herald config` shows as
    offered is what is offered. One answer bounded by `LOCAL_MAX_TOKENS` and never continued, greedy
    decoding, and the server's window as the context budget. A value the user set wins.
    """
    sources = dict(settings.sources)
    defaults: dict[str, tuple[Any, str]] = {
        "toolsets": ((), f"{LOCAL_SOURCE}: a 270M model cannot call tools; --toolsets to offer some"),
        "max_tokens": (LOCAL_MAX_TOKENS, f"{LOCAL_SOURCE}; --max-tokens to change"),
        "temperature": (LOCAL_TEMPERATURE, f"{LOCAL_SOURCE}: greedy"),
        "max_context_tokens": (n_ctx, f"{LOCAL_SOURCE}: the server's n_ctx"),
    }
    changes: dict[str, Any] = {}
    for key, (value, why) in defaults.items():
        if key not in settings.sources:  # a value the user set wins
            changes[key], sources[key] = value, why
    if "toolsets" in changes and settings.mcp_servers:  # no tools means no MCP tools either
        names = ", ".join(server.name for server in settings.mcp_servers)
        changes["mcp_servers"] = ()
        sources["mcp_servers"] = f"{LOCAL_SOURCE}: not offered ({names} configured); --toolsets to offer tools"
    sources["base_url"] = f"{LOCAL_SOURCE}: started for each command"
    sources["model"] = _model_source(settings)
    return replace(
        settings,
        base_url=base_url,
        model=model,
        api_key=None,
        api_mode="chat_completions",
        max_continuations=0,  # continuing a base model's ramble only lengthens it
        sources=sources,
        **changes,
    )


def planned_local_settings(settings: Settings) -> Settings:
    """`local_settings` before the server runs: its port is only chosen when it starts."""
    from herald.local import model_alias

    return local_settings(settings, base_url=LOCAL_URL_PLACEHOLDER, model=model_alias(settings.local_model), n_ctx=LOCAL_N_CTX)


@contextmanager
def local_provider(settings: Settings, err: TextIO | None = None) -> Iterator[Settings]:
    """Settings pointing at a local llama.cpp server started for this command, stopped after it.

    Settings that don't ask for the local model pass through untouched. While the server
    starts, `err` shows "starting the local model… Ns".

    Raises:
        herald.local.LocalExtraMissing / LocalModelError / LocalServerError: it cannot run.
    """
    if not uses_local_model(settings):
        yield settings
        return
    from herald.local import model_alias, start_local_provider

    stream = err if err is not None else sys.stderr
    if settings.source("local").startswith("default"):
        write_wrapped(stream, NOTICE.format(model=model_alias(settings.local_model)))
    with StartProgress(stream):
        provider = start_local_provider(settings.local_model, n_ctx=LOCAL_N_CTX)
    with provider:
        yield local_settings(settings, base_url=provider.base_url, model=provider.model, n_ctx=provider.n_ctx)


def _model_source(settings: Settings) -> str:
    if settings.local_model is not None:
        return f"{LOCAL_SOURCE}: {Path(settings.local_model).name} ({settings.source('local_model')})"
    return f"{LOCAL_SOURCE}: the bundled Gemma 3 270M, pretrained"


def write_wrapped(stream: TextIO, text: str) -> None:
    """`text` on `stream`, wrapped at word boundaries to the terminal's width when it is one."""
    if _isatty(stream):
        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        text = textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)
    stream.write(text + "\n")
    stream.flush()


class StartProgress:
    """"starting the local model… Ns" while a block runs: redrawn every second on a terminal,
    one line (with the time it took) on a pipe."""

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic, interval: float = 1.0) -> None:
        self._stream = stream
        self._clock = clock
        self._interval = interval
        self._done = threading.Event()
        self._tty = _isatty(stream)
        self._started = 0.0
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StartProgress:
        self._started = self._clock()
        if self._tty:
            self._draw(f"{STARTING} 0s")
            self._thread = threading.Thread(target=self._tick, name="herald-start-progress", daemon=True)
            self._thread.start()
        else:
            self._stream.write(STARTING)
            self._stream.flush()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        outcome = f"ready in {self._clock() - self._started:.1f}s" if kind is None else "failed"
        if self._tty:
            self._draw(f"{STARTING} {outcome}")
            self._stream.write("\n")
        else:
            self._stream.write(f" {outcome}\n")
        self._stream.flush()

    def _tick(self) -> None:
        while not self._done.wait(self._interval):
            self._draw(f"{STARTING} {self._clock() - self._started:.0f}s")

    def _draw(self, text: str) -> None:
        self._stream.write("\r\x1b[2K" + text)  # back to the line's start, erase it, redraw
        self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
