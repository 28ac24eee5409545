"""A sans-IO decoder for server-sent events: bytes in, complete events out.

    decoder = SSEDecoder()
    for chunk in response.iter_bytes():        # or `async for` on an async response
        for event in decoder.feed(chunk):
            handle(event.event, event.data)
    for event in decoder.flush():              # at end of body: a last event without its blank line
        handle(event.event, event.data)

It never touches a socket, so the sync and async stream paths share it (h11's shape). It
follows the WHATWG "event stream" rules that matter to LLM providers: lines end in LF, CRLF
or CR (even split across chunks), `:` lines are comments (keep-alives), several `data:` lines
join with "\\n", an event without data is not dispatched, `id` and `retry` are ignored.
Payloads stay bytes: the JSON decoder reads bytes directly.
"""

from __future__ import annotations

from dataclasses import dataclass

_DATA_PREFIX = b"data: "


@dataclass(slots=True)
class SSEEvent:
    event: str
    """The `event:` field; "message" when the event did not name itself (the chat wire)."""
    data: bytes
    """The `data:` lines, joined with b"\\n"."""


class SSEDecoder:
    """Splits a byte stream into `SSEEvent`s. One decoder per stream; not thread-safe."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        """Bytes of the event being received (no blank line yet), kept as pieces: joining
        on every feed would make one huge event arriving in small chunks quadratic."""
        self._pending_cr = False
        """The last chunk ended in CR: if the next starts with LF, the two are one line end."""

    def feed(self, data: bytes) -> list[SSEEvent]:
        """The events completed by `data`, in order (often none, sometimes many)."""
        if self._pending_cr:
            data = b"\r" + data
            self._pending_cr = False
        if b"\r" in data:
            if data.endswith(b"\r"):
                data = data[:-1]
                self._pending_cr = True
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        parts = self._parts
        if b"\n\n" not in data and not (parts and data[:1] == b"\n" and parts[-1][-1:] == b"\n"):
            if data:
                parts.append(data)
            return []
        if parts:
            parts.append(data)
            data = b"".join(parts)
            parts.clear()
        blocks = data.split(b"\n\n")
        tail = blocks.pop()
        if tail:
            parts.append(tail)
        events = []
        for block in blocks:
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """At end of stream: the last event, if its closing blank line never came."""
        self._pending_cr = False
        block = b"".join(self._parts).rstrip(b"\n")
        self._parts.clear()
        event = _parse_block(block) if block else None
        return [event] if event is not None else []


def _parse_block(block: bytes) -> SSEEvent | None:
    if block.startswith(_DATA_PREFIX) and b"\n" not in block:
        return SSEEvent("message", block[6:])  # the common one-line event: no field parsing
    name = ""
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line[0] == 0x3A:  # empty, or a ":" comment
            continue
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            data.append(value)
        elif field == b"event":
            name = value.decode("utf-8", "replace")
    if not data:
        return None
    return SSEEvent(name or "message", data[0] if len(data) == 1 else b"\n".join(data))


__all__ = ["SSEDecoder", "SSEEvent"]
