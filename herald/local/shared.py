"""The local model as a named provider: `"local"`, usable wherever a provider is configured.

    AIAgent("local")                                    # the primary
    AIAgent("openai/gpt-4o-mini", fallback=[{"model": "local"}])
    [[fallback]]                                        # config.toml, herald batch, the gateway
    model = "local"

The name resolves to the bundled Gemma 3 270M (or `local_model`'s GGUF file) served on a
loopback port chosen when it is resolved. The server starts on first use, when a client for
that address is first made (`herald.llm.clients.on_first_client`), so a fallback that is
never needed costs nothing; one server per process and model file, shared by every agent,
stopped at interpreter exit.
"""

from __future__ import annotations

import threading
from pathlib import Path

from herald.errors import ConfigError
from herald.local.errors import LocalExtraMissing
from herald.local.model import ensure_model
from herald.local.server import EXTRA_MISSING, LocalServer, free_port, local_extra_available

LOCAL_PROVIDER = "local"
"""The provider name of the bundled local model."""
LOCAL_N_CTX = 4096

_lock = threading.Lock()
_servers: dict[str, _LazyServer] = {}  # by model file ("" for the bundled one)


class _LazyServer:
    """A local server whose port is fixed now and whose process starts on first use."""

    def __init__(self, model: str | None, port: int) -> None:
        from herald.local import chat_format_for, model_alias

        self.model = model
        self.alias = model_alias(model)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._chat_format = chat_format_for
        self._server: LocalServer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the server once and wait until it answers; every caller waits for that."""
        with self._lock:
            if self._server is not None and self._server.running:
                return
            path = ensure_model(self.model)
            server = LocalServer(path, port=self.port, alias=self.alias, chat_format=self._chat_format(path), n_ctx=LOCAL_N_CTX)
            server.start()
            self._server = server


def resolve_local(model: str | None = None) -> tuple[str, str]:
    """The model name and base URL of the process's local model server (not started yet).

    Args:
        model: a GGUF file, or None for the bundled model.

    Raises:
        ConfigError: the `local` extra is not installed.
    """
    if not local_extra_available():
        raise ConfigError(f"model {LOCAL_PROVIDER!r}: {EXTRA_MISSING}")
    from herald.llm.clients import on_first_client

    key = str(Path(model).expanduser()) if model else ""
    with _lock:
        lazy = _servers.get(key)
        if lazy is None:
            lazy = _servers[key] = _LazyServer(model, free_port())
            on_first_client(lazy.base_url, lazy.start)
    return lazy.alias, lazy.base_url


__all__ = ["LOCAL_PROVIDER", "LocalExtraMissing", "resolve_local"]
