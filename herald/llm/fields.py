"""The object path: SDK objects and look-alikes → the plain dicts the stream readers read.

The raw fast path hands the readers what the JSON decoder makes (dicts, lists, strings). A
client that is not a real SDK client (the reference contract's doubles, a custom client a user
passes, the SDK's own `responses.stream()` helper) yields objects instead; `plain()` turns each
into the same dicts, so one reader serves both paths.

Pydantic models are read from the instance `__dict__` and `__pydantic_extra__` directly:
`getattr` on an absent field goes through `BaseModel.__getattr__`, which raises and catches.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

_SCALARS = (str, int, float, bool, bytes, type(None))


def plain(obj: Any) -> Any:
    """`obj` as plain data: models and objects become dicts of their public fields, recursively.

    Values that are already plain (str, numbers, None) come back as they are.
    """
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, dict):
        return {key: plain(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(value) for value in obj]
    if isinstance(obj, BaseModel):
        fields = obj.__dict__
        extra = obj.__pydantic_extra__
        return {key: plain(value) for key, value in ({**fields, **extra} if extra else fields).items()}
    if type(obj) is SimpleNamespace:
        return {key: plain(value) for key, value in vars(obj).items()}
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        return {key: plain(value) for key, value in attributes.items() if not key.startswith("_")}
    return obj


__all__ = ["plain"]
