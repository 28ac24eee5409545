"""Herald's zero-account provider: a small real model served on this machine's CPU.

    from herald.local import start_local_provider
    from herald.agent import AIAgent

    with start_local_provider() as local:           # Gemma 3 270M, assembled on first use
        agent = AIAgent(local.model, base_url=local.base_url)

Needs the extra: `pip install 'herald[local]'`. Importing this package is cheap and never
imports llama_cpp; only the server process does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from herald.local.errors import LocalExtraMissing, LocalModelError, LocalServerError
from herald.local.model import DEFAULT_MODEL_ALIAS, default_model_path, ensure_model
from herald.local.serve import CHAT_FORMAT, QA_FORMAT
from herald.local.server import EXTRA_MISSING, LocalServer, local_extra_available

__all__ = [
    "LocalExtraMissing",
    "LocalModelError",
    "LocalProvider",
    "LocalServer",
    "LocalServerError",
    "QA_FORMAT",
    "chat_format_for",
    "default_model_path",
    "ensure_model",
    "local_extra_available",
    "model_alias",
    "start_local_provider",
]

_GEMMA3 = re.compile(r"gemma[-_]?3", re.IGNORECASE)
_INSTRUCTION_TUNED = re.compile(r"(^|[-_.])(it|instruct|chat)([-_.]|$)", re.IGNORECASE)


@dataclass
class LocalProvider:
    """A running local model: point an OpenAI-compatible client at `base_url`, send `model`.

    No API key is needed (Herald sends a placeholder to loopback endpoints).
    """

    server: LocalServer
    model: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def n_ctx(self) -> int:
        """The server's context window in tokens: prompt and answer together must fit in it."""
        return self.server.n_ctx

    def stop(self) -> None:
        """Stop the server (idempotent; also happens at interpreter exit)."""
        self.server.stop()

    def __enter__(self) -> LocalProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_local_provider(
    model: str | None = None, *, n_ctx: int = 4096, startup_timeout: float = 120.0, port: int | None = None
) -> LocalProvider:
    """Start a local server and return once it answers.

    Args:
        model: a .gguf path, or None for the packaged Gemma 3 270M.
        port: the loopback port to serve on (None: a free one).

    Raises:
        LocalExtraMissing: the `local` extra is not installed.
        LocalModelError: `model` is not an existing GGUF file.
        LocalServerError: the server did not start (the message carries its log's tail).
    """
    if not local_extra_available():
        raise LocalExtraMissing(EXTRA_MISSING)
    path = ensure_model(model)
    alias = model_alias(model)
    server = LocalServer(
        path,
        alias=alias,
        chat_format=chat_format_for(path),
        n_ctx=n_ctx,
        startup_timeout=startup_timeout,
        port=port,
    )
    server.start()
    return LocalProvider(server=server, model=alias)


def model_alias(model: str | Path | None) -> str:
    """The name the server answers to: "gemma-3-270m" for the packaged model, else the file's stem."""
    return DEFAULT_MODEL_ALIAS if model is None else Path(model).expanduser().stem


def chat_format_for(path: str | Path) -> str | None:
    """The prompt frame for a model file, judged by its name.

    Gemma 3 files: Herald's tool-aware chat format for instruction-tuned ones ("-it", as
    Google names them), the few-shot question-and-answer frame for pretrained ones (the
    packaged model is one: given chat turns it echoes the question). Other files: the
    GGUF's own chat template.
    """
    name = Path(path).name
    if not _GEMMA3.search(name):
        return None
    return CHAT_FORMAT if _INSTRUCTION_TUNED.search(Path(name).stem) else QA_FORMAT
