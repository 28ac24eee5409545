"""Keep API keys out of messages, logs and stored data."""

from __future__ import annotations

import re
from typing import Any, Iterable

# Shapes of well-known key formats, scrubbed even when we don't know the key itself
# (a provider may echo back a different key than the one we sent, e.g. from a proxy).
_KEY_SHAPES = re.compile(r"\b(?:sk|rk|pk)-(?:[A-Za-z0-9_\-]{2,}-)*[A-Za-z0-9_\-]{12,}\b|\bsk-ant-[A-Za-z0-9_\-]{8,}\b")


def mask_key(key: str | None) -> str:
    """A display form of a key that identifies it without revealing it: `sk-…1234`."""
    if not key:
        return "(not set)"
    if len(key) <= 8:
        return "…" * 3
    return f"{key[:3]}…{key[-4:]}"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every given secret and anything shaped like an API key replaced by a mask."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, mask_key(secret))
    return _KEY_SHAPES.sub(lambda m: mask_key(m.group(0)), text)


def redact_data(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """`redact` applied to every string inside nested dicts and lists."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v, secrets) for v in value]
    return value
