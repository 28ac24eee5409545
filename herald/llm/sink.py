"""Hand stream deltas to the agent's consumers, safely.

A consumer's exception never breaks the stream, text stops flowing once a tool call
appears, and once a stream is abandoned (stall, interrupt, fallback) nothing more from
it reaches anyone, even though its worker thread may still be draining.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence

from herald.llm.accumulate import ReasoningDelta, TextDelta, ToolCallStarted
from herald.llm.continuation import Cut, SeamFilter, join

log = logging.getLogger(__name__)

TextCallback = Callable[[str], object]


class DeltaSink:
    """Delivers one call's deltas to the text, reasoning and first-delta consumers."""

    def __init__(
        self,
        *,
        text_callbacks: Sequence[TextCallback] = (),
        reasoning_callback: TextCallback | None = None,
        on_first_delta: Callable[[], object] | None = None,
        reset_callback: Callable[[], object] | None = None,
        continued_callback: Callable[[], object] | None = None,
    ) -> None:
        self._text_callbacks = [cb for cb in text_callbacks if cb is not None]
        self._reasoning_callback = reasoning_callback
        self._on_first_delta = on_first_delta
        self._reset_callback = reset_callback
        self._lock = threading.Lock()
        self._abandoned = False
        self._first_done = False
        self._text_closed = False
        self._reset_pending = False
        self._continued_callback = continued_callback
        self._continued_pending = False
        self._seam: SeamFilter | None = None
        self._continues: tuple[str, str | None] | None = None
        self._text: list[str] = []
        self._reasoning_seen = False
        self._tool_call_seen = False
        self.delivered = False
        """True once any text or reasoning reached a consumer (a fallback must then reset them)."""

    @property
    def abandoned(self) -> bool:
        return self._abandoned

    def emit(self, event: TextDelta | ReasoningDelta | ToolCallStarted | None) -> None:
        """Route one accumulator event to its consumers."""
        if event is None:
            return
        with self._lock:
            if self._abandoned:
                return
            if event.kind == "text":
                text = event.text
                if self._seam is not None:
                    text = self._seam.feed(text)
                    if not text:
                        return  # held at the seam (maybe an echo of the prefix)
                self._first()
                self._deliver_text(text)
            elif event.kind == "reasoning":
                self._first()
                self._reasoning_seen = True
                if self._reasoning_callback is not None:
                    self._call(self._reasoning_callback, event.text)
                    self.delivered = True
            else:
                self._first()
                if self._seam is not None and (held := self._seam.finish()):
                    self._deliver_text(held)
                # The answer is a tool-calling turn: text after this point is not for display.
                self._text_closed = True
                self._tool_call_seen = True

    def _deliver_text(self, text: str) -> None:
        if not self._text_closed:
            self._text.append(text)
            for callback in self._text_callbacks:
                self._call(callback, text)
                self.delivered = True

    @property
    def cut(self) -> Cut:
        """What this sink delivered, for continuing it: the answer text shown (after the seam), and
        whether a tool call or reasoning had begun."""
        return Cut("".join(self._text), tool_call=self._tool_call_seen, reasoning=self._reasoning_seen)

    def continue_from(self, shown: str, *, sent: str | None = None) -> None:
        """This sink delivers a continuation of `shown` (what consumers have on screen; `sent` is the
        prefix as the request carried it): an echo of it is dropped at the seam, and consumers are
        told `continued` just before the first new delta (the text on screen stands, no reset)."""
        self._seam = SeamFilter(shown, sent=sent)
        self._continues = (shown, sent)
        self._continued_pending = True

    def whole_text(self, received: str | None) -> str | None:
        """The answer's text given what this stream `received`: after a continuation, the shown text it
        continues joined with it (`join`: an echo removed); else `received` unchanged."""
        if self._continues is None:
            return received
        shown, sent = self._continues
        return join(shown, received or "", sent=sent)

    def finish_continuation(self) -> None:
        """The continuation ended: deliver what the seam still held (it was not an echo after all)."""
        if self._seam is None:
            return
        with self._lock:
            rest = self._seam.finish()
            if rest and not self._abandoned:
                self._first()
                self._deliver_text(rest)

    def close_text(self) -> None:
        """Stop text delivery (a tool call was seen)."""
        self._text_closed = True

    def abandon(self) -> None:
        """Deliver nothing more from this stream. Waits for a delivery in progress."""
        with self._lock:
            self._abandoned = True

    def reset_on_first_delta(self) -> None:
        """What consumers were shown is void: reset them just before this sink's first delta (not
        before: the void text stays on screen until its replacement arrives)."""
        self._reset_pending = True

    @property
    def owes_reset(self) -> bool:
        """A reset was asked for and not yet delivered (this sink delivered nothing)."""
        return self._reset_pending

    def reset(self) -> None:
        """Tell consumers that what they were shown is void; a replacement follows."""
        if self._reset_callback is not None:
            self._call(self._reset_callback)

    def replay(self, *, text: str | None, reasoning: str | None) -> None:
        """Deliver a complete answer that did not stream (a fallback's), once, as whole deltas."""
        with self._lock:
            self._first()
            if reasoning and self._reasoning_callback is not None:
                self._call(self._reasoning_callback, reasoning)
            if text:
                for callback in self._text_callbacks:
                    self._call(callback, text)

    def _first(self) -> None:
        if not self._first_done:
            self._first_done = True
            if self._reset_pending:
                self._reset_pending = False
                self.reset()
            if self._continued_pending:
                self._continued_pending = False
                if self._continued_callback is not None:
                    self._call(self._continued_callback)
            if self._on_first_delta is not None:
                self._call(self._on_first_delta)

    @staticmethod
    def _call(callback: Callable[..., object], *args: object) -> None:
        try:
            callback(*args)
        except Exception:  # a display bug must not break the stream
            log.debug("stream consumer %r raised; ignored", callback, exc_info=True)
