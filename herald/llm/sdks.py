"""The SDKs' classes, looked up among the SDKs already imported.

Importing `anthropic` costs about 1.5 s of start-up and a run that talks to one provider
needs one SDK, so the client factories import theirs on first use and nothing else imports
an SDK eagerly. An SDK's exception or client can only exist once its module is imported, so
checking against the loaded SDKs' classes is exact, never a guess.
"""

from __future__ import annotations

import sys
from typing import Any

_SDK_MODULES = ("openai", "anthropic")


def loaded_classes(*names: str) -> tuple[type, ...]:
    """The classes called `names` in each SDK imported so far (empty if none is)."""
    found: list[type] = []
    for module_name in _SDK_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name in names:
            cls = getattr(module, name, None)
            if isinstance(cls, type):
                found.append(cls)
    return tuple(found)


def loaded_errors(*names: str) -> tuple[type[Any], ...]:
    """The exception classes called `names` in each SDK imported so far, for an `except`."""
    return tuple(cls for cls in loaded_classes(*names) if issubclass(cls, BaseException))
