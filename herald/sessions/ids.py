"""Session ids: sortable by creation time, unique without coordination, easy to type a prefix of."""

from __future__ import annotations

import secrets
import time


def new_session_id(now: float | None = None) -> str:
    """An id like `20250612_143022_a1b2c3`: UTC time of creation, then 24 random bits.

    UTC, not local time, so ids sort in creation order across time-zone and DST changes.
    The random tail keeps two sessions started in the same second apart.
    """
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}_{secrets.token_hex(3)}"
