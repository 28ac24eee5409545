"""Toolsets: named groups of tools the user enables or disables together."""

from __future__ import annotations

from typing import Iterable

from herald.errors import ConfigError

TOOLSETS: dict[str, tuple[str, ...]] = {
    "terminal": ("terminal",),
    "file": ("read_file", "write_file", "patch", "search_files"),
    "web": ("web_extract", "web_search"),
    "memory": ("memory",),
}


def _check(names: Iterable[str], what: str) -> set[str]:
    chosen = set(names)
    unknown = sorted(chosen - TOOLSETS.keys())
    if unknown:
        raise ConfigError(f"unknown toolset{'s' if len(unknown) > 1 else ''} in {what}: {', '.join(unknown)} (known: {', '.join(TOOLSETS)})")
    return chosen


def resolve_toolsets(enabled: Iterable[str] | None = None, disabled: Iterable[str] = ()) -> list[str]:
    """The toolsets in effect, in canonical order: `enabled` (all when None) minus `disabled`.

    Raises `ConfigError` naming any unknown toolset.
    """
    on = _check(TOOLSETS if enabled is None else enabled, "enabled")
    off = _check(disabled, "disabled")
    return [name for name in TOOLSETS if name in on and name not in off]
