"""Read a possibly-absent field from an SDK object, fast.

`getattr(chunk, "reasoning_content", None)` on an openai pydantic model that lacks the
field goes through `BaseModel.__getattr__`, which raises and catches an AttributeError:
about 4 µs, several times per chunk. Field values live in the instance `__dict__` and
provider extras in `__pydantic_extra__`, so look there first.
"""

from __future__ import annotations

from typing import Any


def field(obj: Any, name: str) -> Any:
    """`obj.name`, or None when the object has no such field."""
    values = getattr(obj, "__dict__", None)
    if values is None:
        return getattr(obj, name, None)
    if name in values:
        return values[name]
    extra = getattr(obj, "__pydantic_extra__", None)
    if extra is not None:
        return extra.get(name)
    # Plain objects (SimpleNamespace, test doubles, properties): the slow, general path.
    return getattr(obj, name, None)
