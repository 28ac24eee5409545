"""The accumulator merges real-world chunk shapes into one response."""

from types import SimpleNamespace as NS

from herald.llm.accumulate import ReasoningDelta, StreamAccumulator, TextDelta, ToolCallStarted
from herald.llm.openai_chat import ChatStreamReader
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import read_objects


def chunk(content=None, tool_calls=None, finish_reason=None, reasoning=None, usage=None, choices=True, **extra):
    delta = NS(content=content, tool_calls=tool_calls, reasoning_content=reasoning)
    listed = [NS(index=0, delta=delta, finish_reason=finish_reason)] if choices else []
    return NS(id="c1", model="m", choices=listed, usage=usage, **extra)


def tc(index=None, id=None, name=None, arguments=None, *, no_index=False):
    fragment = NS(id=id, function=NS(name=name, arguments=arguments))
    if not no_index:
        fragment.index = index
    return fragment


def read(chunks, **sink_kwargs):
    return read_objects(iter(chunks), ChatStreamReader(StreamAccumulator(), DeltaSink(**sink_kwargs)), None)


def calls(response):
    return [(c.id, c.function.name, c.function.arguments) for c in response.message.tool_calls or []]


def test_handlers_return_typed_events():
    acc = StreamAccumulator()
    assert acc.handle_text_delta(text="hi") == TextDelta("hi")
    assert acc.handle_text_delta(text="") is None
    assert acc.handle_reasoning_delta(text="hmm") == ReasoningDelta("hmm")
    assert acc.handle_tool_call_delta(index=0, call_id="a", name="f") == ToolCallStarted("f", 0)
    assert acc.handle_tool_call_delta(index=0, arguments="{}") is None


def test_llamacpp_repeats_id_and_name_on_every_chunk():
    response = read([
        chunk(tool_calls=[tc(0, "call_1", "read_file", '{"pa')]),
        chunk(tool_calls=[tc(0, "call_1", "read_file", 'th": "a"}')]),
        chunk(finish_reason="tool_calls"),
    ])
    assert calls(response) == [("call_1", "read_file", '{"path": "a"}')]


def test_missing_index_appends_to_the_current_call_and_new_id_starts_another():
    response = read([
        chunk(tool_calls=[tc(id="a", name="f", arguments='{"x":', no_index=True)]),
        chunk(tool_calls=[tc(arguments=" 1}", no_index=True)]),
        chunk(tool_calls=[tc(id="b", name="g", arguments="{}", no_index=True)]),
        chunk(finish_reason="tool_calls"),
    ])
    assert calls(response) == [("a", "f", '{"x": 1}'), ("b", "g", "{}")]


def test_new_id_at_a_used_index_is_a_second_call():
    response = read([
        chunk(tool_calls=[tc(0, "a", "f", "{}")]),
        chunk(tool_calls=[tc(0, "b", "g", '{"y": 2}')]),
        chunk(finish_reason="tool_calls"),
    ])
    assert calls(response) == [("a", "f", "{}"), ("b", "g", '{"y": 2}')]


def test_interleaved_calls_merge_by_index():
    response = read([
        chunk(tool_calls=[tc(0, "a", "f", ""), tc(1, "b", "g", "")]),
        chunk(tool_calls=[tc(1, arguments='{"q"')]),
        chunk(tool_calls=[tc(0, arguments='{"p": 1}')]),
        chunk(tool_calls=[tc(1, arguments=": 2}")]),
        chunk(finish_reason="tool_calls"),
    ])
    assert calls(response) == [("a", "f", '{"p": 1}'), ("b", "g", '{"q": 2}')]


def test_whole_call_in_one_chunk():
    response = read([chunk(tool_calls=[tc(0, "a", "f", '{"k": "v"}')], finish_reason="tool_calls")])
    assert calls(response) == [("a", "f", '{"k": "v"}')]


def test_reasoning_from_either_field_and_usage_only_final_chunk():
    usage = NS(prompt_tokens=7, completion_tokens=3, total_tokens=10)
    chunks = [
        chunk(reasoning="think "),
        NS(id="c1", model="m", usage=None, choices=[NS(index=0, finish_reason=None, delta=NS(content=None, tool_calls=None, reasoning="more"))]),
        chunk(content="answer", finish_reason="stop"),
        chunk(choices=False, usage=usage),
    ]
    response = read(chunks)
    assert response.message.reasoning_content == "think more"
    assert response.message.content == "answer"
    assert response.message.tool_calls is None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (7, 3)


def test_text_stops_flowing_after_the_first_tool_call_fragment_even_without_a_name():
    seen = []
    read(
        [chunk(content="a"), chunk(tool_calls=[tc(0, arguments="{")]), chunk(content="b"), chunk(finish_reason="stop")],
        text_callbacks=[seen.append],
    )
    assert seen == ["a"]


def test_a_raising_consumer_does_not_break_the_stream():
    first = []

    def boom(_text):
        raise RuntimeError("display bug")

    response = read(
        [chunk(content="a"), chunk(content="b", finish_reason="stop")],
        text_callbacks=[boom],
        on_first_delta=lambda: first.append(1),
    )
    assert response.message.content == "ab"
    assert first == [1]


def test_joining_is_linear_not_quadratic():
    # 200k one-char deltas would take minutes with repeated concatenation into a new str each time.
    acc = StreamAccumulator()
    for _ in range(200_000):
        acc.handle_text_delta(text="x")
    acc.handle_finish(reason="stop")
    assert len(acc.build().message.content) == 200_000
