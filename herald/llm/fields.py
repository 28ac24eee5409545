"""Read possibly-absent fields from SDK objects, fast.

`getattr(chunk, "reasoning_content", None)` on an openai pydantic model that lacks the
field goes through `BaseModel.__getattr__`, which raises and catches an AttributeError:
microseconds, several times per chunk. A pydantic model keeps its field values in the
instance `__dict__` and provider extras in `__pydantic_extra__`, so read those directly.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Mapping

from pydantic import BaseModel


class _Attributes:
    """`.get` over any object's attributes: the general, slower path (test doubles, plain classes)."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._obj, name, default)


def fields_of(obj: Any) -> Mapping[str, Any] | _Attributes:
    """A read-only view with `.get(name)` over an object's fields (None for absent ones)."""
    if isinstance(obj, BaseModel):
        extra = obj.__pydantic_extra__
        return {**obj.__dict__, **extra} if extra else obj.__dict__
    if type(obj) is SimpleNamespace:
        return obj.__dict__
    if obj is None:
        return {}
    return _Attributes(obj)
