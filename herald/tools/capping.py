"""Keeping tool output within a size the model can afford, without losing its ending."""

from __future__ import annotations


def cap_text(text: str, cap: int) -> str:
    """Return `text` unchanged if it fits in `cap` characters, else its head and tail
    around a note saying how much was cut.

    The tail matters as much as the head: errors and summaries come last.
    """
    if cap <= 0 or len(text) <= cap:
        return text
    omitted_guess = len(text) - cap
    note = f"\n\n[... output truncated: {omitted_guess:,} of {len(text):,} characters omitted ...]\n\n"
    room = max(cap - len(note), 2)
    head = room // 2
    tail = room - head
    omitted = len(text) - head - tail
    note = f"\n\n[... output truncated: {omitted:,} of {len(text):,} characters omitted ...]\n\n"
    return text[:head] + note + text[len(text) - tail :]


class HeadTailBuffer:
    """Collects a byte stream keeping only its first and last `keep` bytes.

    Lets a command print gigabytes without the agent holding them all in memory.
    """

    def __init__(self, keep: int) -> None:
        self.keep = max(keep, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        """Append `data` to the stream."""
        self.total += len(data)
        room = self.keep - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > self.keep:
                del self._tail[: len(self._tail) - self.keep]

    def text(self) -> str:
        """The kept bytes decoded, with a note where the middle was dropped."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        dropped = self.total - len(self._head) - len(self._tail)
        if dropped <= 0:
            return head + tail
        return f"{head}\n\n[... output truncated: {dropped:,} of {self.total:,} bytes omitted ...]\n\n{tail}"
