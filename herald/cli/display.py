"""What the CLI hooks to the agent's streaming callbacks.

``StreamDisplay`` is the protocol; ``RichDisplay`` draws on a terminal
(spinner, live markdown, dim reasoning, compact tool lines) and
``PlainDisplay`` writes plain text for pipes.

Callbacks may arrive on the LLM layer's worker thread; both displays
serialize them with a lock.

Stream reset (the LLM layer abandoned a stream that was partly shown and
will deliver the complete answer as one ``on_text`` delta):

- ``RichDisplay`` takes back, in place, every row the abandoned call printed
  that is still on screen (reasoning and finished paragraphs included) and
  renders the replacement there, so the answer appears once. Only rows that
  already scrolled into the terminal's scrollback stay; then a dim "⚠ stream
  interrupted — complete answer below" marker follows them.
- ``PlainDisplay`` cannot take back bytes already written to a pipe: the
  partial text stays on ``out``, the marker goes to ``err``, ``out`` gets a
  newline if the partial text ended mid-line, and then the complete answer.
  A consumer of ``out`` alone therefore sees the abandoned prefix followed by
  the full answer.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Callable, Protocol, TextIO, TypedDict, runtime_checkable

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from herald.cli.echo import EchoGuard
from herald.cli.live import DEFAULT_FPS, LiveMarkdown, LiveStream, RenderStats
from herald.cli.markdown_render import CODE_THEME
from herald.cli.reasoning import LiveReasoning
from herald.cli.segment import ScreenSegment
from herald.cli.summary import TurnSummary, footer_text

__all__ = [
    "INTERRUPTED_MARKER",
    "RESET_MARKER",
    "PlainDisplay",
    "RichDisplay",
    "StreamDisplay",
]

RESET_MARKER = "⚠ stream interrupted — complete answer below"
INTERRUPTED_MARKER = "[interrupted]"


@runtime_checkable
class StreamDisplay(Protocol):
    """Callbacks the agent drives while a turn streams."""

    def begin_turn(self) -> None: ...

    def on_first_delta(self) -> None: ...

    def on_reasoning(self, delta: str) -> None: ...

    def on_text(self, delta: str) -> None: ...

    def on_stream_reset(self) -> None: ...

    def on_stream_continued(self) -> None:
        """A broken stream's answer goes on in place: what is on screen stands."""

    def on_tool_start(self, name: str, preview: str, *, arguments: str = "") -> None: ...

    def on_tool_end(self, name: str, duration_s: float, ok: bool, summary: str = "", *, output: str = "") -> None: ...

    def end_turn(self, *, interrupted: bool = False) -> None: ...

    def error(self, message: str) -> None: ...

    def notice(self, message: str) -> None:
        """A dim one-line note after the answer (e.g. which fallback provider answered)."""
        ...

    def on_turn_complete(self, summary: TurnSummary) -> None:
        """After `end_turn` (and `error`): the turn's usage, timing and outcome."""
        ...


def _one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so a status line stays one line."""
    return " ".join(text.split())


def _duration(seconds: float) -> str:
    return f"{seconds:.1f}s"


class _StreamOptions(TypedDict):
    """What every live stream on this display shares."""

    refresh_per_second: float
    auto_refresh: bool
    clock: Callable[[], float]
    stats: RenderStats | None


class RichDisplay:
    """Terminal display: spinner, live markdown answer, dim reasoning, tool lines."""

    def __init__(
        self,
        console: Console,
        show_reasoning: bool = True,
        *,
        code_theme: str = CODE_THEME,
        refresh_per_second: float = DEFAULT_FPS,
        auto_refresh: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.show_reasoning = show_reasoning
        self.stats = RenderStats()  # shared by every stream, for diagnostics
        self._code_theme = code_theme
        self._fps = refresh_per_second
        self._auto_refresh = auto_refresh
        self._clock = clock
        # Callbacks come from the LLM worker thread and the UI thread alike.
        self._lock = threading.RLock()
        self._spinner: Live | None = None
        self._answer: LiveMarkdown | None = None
        self._reasoning: LiveReasoning | None = None
        self._last_section: str | None = None  # what was printed last this turn
        self._segment = ScreenSegment()  # what the current model call printed
        self._echo = EchoGuard(console.file)  # no key echo into live regions

    # -- protocol -------------------------------------------------------------

    def begin_turn(self) -> None:
        with self._lock:
            self._close_streams()
            self._last_section = None
            self._new_segment()
            self._start_spinner("thinking…")

    def on_first_delta(self) -> None:
        with self._lock:
            self._stop_spinner()

    def on_reasoning(self, delta: str) -> None:
        with self._lock:
            self._stop_spinner()
            if not self.show_reasoning or not delta:
                return
            if self._reasoning is None:
                # Reasoning after answer text (interleaved thinking) closes it.
                self._finish_answer()
                self._section("reasoning")
                self._echo.off()
                self._reasoning = LiveReasoning(self.console, **self._stream_options())
            self._reasoning.feed(delta)

    def on_text(self, delta: str) -> None:
        with self._lock:
            self._stop_spinner()
            if not delta:
                return
            if self._answer is None:
                self._finish_reasoning()
                self._section("answer")
                self._echo.off()
                self._answer = LiveMarkdown(
                    self.console, code_theme=self._code_theme, **self._stream_options()
                )
            self._answer.feed(delta)

    def on_stream_continued(self) -> None:
        pass  # the answer goes on in place: keep everything on screen, the new text follows it

    def on_stream_reset(self) -> None:
        with self._lock:
            self._stop_spinner()
            self._abandon_streams()
            # Everything this call printed is void: erase what is still on screen; only
            # rows already in the scrollback stay, followed by the marker.
            scrolled = self._segment.take_back(self.console)
            self._last_section = self._segment.section
            if scrolled:
                self._print(Text(RESET_MARKER, style="dim"), section="marker")
            self._new_segment()
            self._start_spinner("waiting for the complete answer…")

    def on_tool_start(self, name: str, preview: str, *, arguments: str = "") -> None:
        with self._lock:
            self._stop_spinner()
            self._close_streams()
            line = Text.assemble(("⚙ ", "dim"), (name, "bold"))
            if preview:
                line.append(" " + _one_line(preview), style="dim")
            self._print_status(line)
            self._start_spinner(f"running {name}…")

    def on_tool_end(self, name: str, duration_s: float, ok: bool, summary: str = "", *, output: str = "") -> None:
        with self._lock:
            self._stop_spinner()
            self._close_streams()
            if ok:
                line = Text.assemble(("✓ ", "green"), (name, "bold"), f" {_duration(duration_s)}")
                if summary:
                    line.append(" " + _one_line(summary), style="dim")
            else:
                line = Text.assemble(("✗ ", "red"), (name, "bold"), f" {_duration(duration_s)}")
                if summary:
                    line.append(": " + _one_line(summary), style="red")
            self._print_status(line)
            self._new_segment()
            self._start_spinner("thinking…")

    def end_turn(self, *, interrupted: bool = False) -> None:
        with self._lock:
            self._stop_all()
            if interrupted:
                self._print(Text(INTERRUPTED_MARKER, style="dim"), section="marker")

    def error(self, message: str) -> None:
        with self._lock:
            self._stop_all()
            self._print(Text(f"herald: error: {_one_line(message)}", style="bold red"), section="error")

    def notice(self, message: str) -> None:
        """A dim line for the user (a cut answer, history left out to fit the context)."""
        with self._lock:
            self._print(Text(message, style="dim"), section="notice")

    def on_turn_complete(self, summary: TurnSummary) -> None:
        """The footer: one dim line of tokens, time to first token, speed and any fallback."""
        with self._lock:
            text = footer_text(summary)
            # An interrupted call reports no usage: its marker, not a footer, ends the turn.
            worth_it = summary.status == "completed" or (summary.status == "interrupted" and summary.usage)
            if text and worth_it:
                self._print_status(Text(text, style="dim"), section="footer")
            self._last_section = None

    # -- helpers ----------------------------------------------------------------

    def close(self) -> None:
        """Stop everything live and restore the terminal (idempotent)."""
        with self._lock:
            self._stop_all()

    def _stop_all(self) -> None:
        try:
            self._stop_spinner()
        finally:
            try:
                self._close_streams()
            finally:
                self._echo.restore()

    def _stream_options(self) -> _StreamOptions:
        return {
            "refresh_per_second": self._fps,
            "auto_refresh": self._auto_refresh,
            "clock": self._clock,
            "stats": self.stats,
        }

    def _section(self, kind: str) -> None:
        """Blank line between different kinds of output (answer, reasoning, tools)."""
        if self._last_section is not None and self._last_section != kind:
            self.console.print()
            self._segment.printed(1)
        self._last_section = kind

    def _new_segment(self) -> None:
        """A model call starts: what it prints from here on can be taken back on reset."""
        self._segment = ScreenSegment(self._last_section)

    def _print(self, renderable: Text, *, section: str) -> None:
        self._section(section)
        self.console.print(renderable)

    def _print_status(self, line: Text, *, section: str = "tool") -> None:
        # Status lines stay on one row: truncated with "…" to the terminal width.
        self._section(section)
        line.no_wrap = True
        line.overflow = "ellipsis"
        self.console.print(line, no_wrap=True, overflow="ellipsis", crop=True)

    def _start_spinner(self, label: str) -> None:
        self._stop_spinner()
        if not self.console.is_terminal:
            return  # nothing to animate on a file
        self._echo.off()
        spinner = Live(
            Spinner("dots", Text(label, style="dim"), style="dim"),
            console=self.console,
            auto_refresh=self._auto_refresh,
            refresh_per_second=self._fps,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._spinner = spinner
        spinner.start(refresh=True)

    def _stop_spinner(self) -> None:
        spinner, self._spinner = self._spinner, None
        if spinner is not None:
            spinner.stop()

    def _finish_answer(self) -> None:
        answer, self._answer = self._answer, None
        self._end_stream(answer, abandon=False)

    def _finish_reasoning(self) -> None:
        reasoning, self._reasoning = self._reasoning, None
        self._end_stream(reasoning, abandon=False)

    def _end_stream(self, stream: LiveStream | None, *, abandon: bool) -> None:
        if stream is None:
            return
        if abandon:
            stream.abandon()
        else:
            stream.finish()
        self._segment.add_stream(stream)

    def _close_streams(self) -> None:
        try:
            self._finish_reasoning()
        finally:
            self._finish_answer()

    def _abandon_streams(self) -> None:
        """Stop both streams, dropping their unfinished tails (a reset voids them)."""
        reasoning, self._reasoning = self._reasoning, None
        answer, self._answer = self._answer, None
        try:
            self._end_stream(reasoning, abandon=True)
        finally:
            self._end_stream(answer, abandon=True)


class PlainDisplay:
    """Pipe-friendly display: answer text to ``out`` as it arrives, the rest to ``err``.

    ``out`` receives the answer text byte for byte (flushed per delta), plus
    one final newline at ``end_turn`` if the answer did not end with one
    (``final_newline=False`` disables that).  Never writes ANSI codes.
    """

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        show_reasoning: bool = False,
        *,
        final_newline: bool = True,
    ) -> None:
        # Resolved at call time so redirected sys.stdout/sys.stderr are honoured.
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.show_reasoning = show_reasoning
        self.final_newline = final_newline
        self._lock = threading.Lock()
        self._out_mid_line = False  # last byte written to out was not "\n"
        self._err_mid_line = False

    def begin_turn(self) -> None:
        pass  # no spinner on a pipe

    def on_first_delta(self) -> None:
        pass

    def on_reasoning(self, delta: str) -> None:
        if self.show_reasoning and delta:
            with self._lock:
                self._err_mid_line = self._write(self.err, delta, self._err_mid_line)

    def on_text(self, delta: str) -> None:
        if delta:
            with self._lock:
                self._out_mid_line = self._write(self.out, delta, self._out_mid_line)

    def on_stream_continued(self) -> None:
        pass  # the text goes on where it stopped: nothing to take back, nothing to mark on stdout

    def on_stream_reset(self) -> None:
        with self._lock:
            self._end_out_line()
            self._err_line(RESET_MARKER)

    def on_tool_start(self, name: str, preview: str, *, arguments: str = "") -> None:
        line = f"⚙ {name}"
        if preview:
            line += " " + _one_line(preview)
        width = shutil.get_terminal_size((80, 24)).columns
        if len(line) > width:
            line = line[: max(1, width - 1)] + "…"
        with self._lock:
            self._err_line(line)

    def on_tool_end(self, name: str, duration_s: float, ok: bool, summary: str = "", *, output: str = "") -> None:
        if ok:
            line = f"✓ {name} {_duration(duration_s)}" + (f" {_one_line(summary)}" if summary else "")
        else:
            line = f"✗ {name} {_duration(duration_s)}" + (f": {_one_line(summary)}" if summary else "")
        with self._lock:
            self._err_line(line)

    def end_turn(self, *, interrupted: bool = False) -> None:
        with self._lock:
            if self.final_newline:
                self._end_out_line()
            if interrupted:
                self._err_line(INTERRUPTED_MARKER)
            elif self._err_mid_line:
                self._err_line("")

    def error(self, message: str) -> None:
        with self._lock:
            self._err_line(f"herald: error: {_one_line(message)}")

    def notice(self, message: str) -> None:
        """A note for the user, on ``err`` (``out`` carries only the answer)."""
        with self._lock:
            self._err_line(message)

    def on_turn_complete(self, summary: TurnSummary) -> None:
        pass  # the footer is for a terminal: a pipe's reader wants the answer alone

    # -- helpers ----------------------------------------------------------------

    @staticmethod
    def _write(stream: TextIO, text: str, mid_line: bool) -> bool:
        """Write and flush; return whether the stream now ends mid-line."""
        try:
            stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "replace").decode(encoding))
        stream.flush()
        return not text.endswith("\n") if text else mid_line

    def _end_out_line(self) -> None:
        if self._out_mid_line:
            self._out_mid_line = self._write(self.out, "\n", True)

    def _err_line(self, line: str) -> None:
        """Write a whole status line to err, starting on a fresh line."""
        prefix = "\n" if self._err_mid_line else ""
        self._err_mid_line = self._write(self.err, prefix + line + "\n" if line else prefix, False)
