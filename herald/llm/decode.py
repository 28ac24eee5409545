"""Decode one JSON payload of a stream (bytes → plain dicts, lists, strings, numbers).

msgspec, not orjson nor `json`: on this project's stream payloads (chat chunks, Responses and
Anthropic events) msgspec's decoder measured 0.30–0.56 µs per payload, orjson 0.34–0.66 µs,
`json.loads` 2.2–3.0 µs (see docs/performance.md). Both fast decoders return the
same plain values; msgspec was faster on every wire.
"""

from __future__ import annotations

from typing import Any

import msgspec

DecodeError = msgspec.DecodeError
"""Raised for a payload that is not valid JSON (a `ValueError`)."""

_decoder = msgspec.json.Decoder()


def decode_json(data: bytes | str) -> Any:
    """The value of one JSON document.

    Raises:
        DecodeError: `data` is not valid JSON.
    """
    return _decoder.decode(data)


__all__ = ["DecodeError", "decode_json"]
