"""The sink's side of a continuation, with no planner: `continued` once, in place, the seam filtered."""

from __future__ import annotations

from herald.llm.accumulate import TextDelta, ToolCallStarted
from herald.llm.sink import DeltaSink


class Consumer:
    def __init__(self) -> None:
        self.log: list[str] = []

    def sink(self) -> DeltaSink:
        return DeltaSink(
            text_callbacks=[lambda text: self.log.append(f"text:{text}")],
            reset_callback=lambda: self.log.append("reset"),
            continued_callback=lambda: self.log.append("continued"),
        )


def text(value: str) -> TextDelta:
    return TextDelta(text=value)


def test_continued_comes_once_just_before_the_first_new_text_and_nothing_resets() -> None:
    consumer = Consumer()
    first = consumer.sink()
    first.emit(text("The capital "))
    first.emit(text("of Fra"))
    assert first.cut.text == "The capital of Fra" and not first.cut.tool_call
    second = consumer.sink()
    second.continue_from(first.cut.text)
    assert consumer.log[-1] == "text:of Fra", "nothing is announced before new text arrives"
    second.emit(text("nce"))
    second.emit(text(" is Paris."))
    second.finish_continuation()
    assert consumer.log == ["text:The capital ", "text:of Fra", "continued", "text:nce", "text: is Paris."]
    assert second.cut.text == "nce is Paris."


def test_an_echoed_prefix_never_reaches_the_consumer() -> None:
    consumer = Consumer()
    sink = consumer.sink()
    sink.continue_from("Hello wor")
    for piece in ["Hel", "lo w", "or", "ld!"]:
        sink.emit(text(piece))
    sink.finish_continuation()
    assert consumer.log == ["continued", "text:ld!"]


def test_text_held_at_the_seam_is_delivered_when_the_stream_ends() -> None:
    consumer = Consumer()
    sink = consumer.sink()
    sink.continue_from("Hello wor")
    sink.emit(text("He"))
    assert consumer.log == []
    sink.finish_continuation()
    assert consumer.log == ["continued", "text:He"]


def test_a_tool_call_is_part_of_the_cut() -> None:
    sink = Consumer().sink()
    sink.emit(text("Let me look."))
    sink.emit(ToolCallStarted(name="read_file", position=0))
    assert sink.cut.tool_call and sink.cut.text == "Let me look."
