"""The sans-IO SSE decoder, the JSON decoder, and the checks made before a raw stream is read."""

from __future__ import annotations

import random

import httpx2
import openai
import pytest

from herald.errors import RateLimitError
from herald.llm.decode import DecodeError, decode_json
from herald.llm.planner import CallPolicy
from herald.llm.sdk_errors import status_error
from herald.llm.sse import SSEDecoder
from herald.llm.stream_loop import is_event_stream, is_sdk_client, not_an_event_stream

STREAM = (
    b'data: {"a":1}\n\n'
    b": keep-alive\n\n"
    b"event: content_block_delta\ndata: line one\ndata: line two\n\n"
    b"id: 7\r\nretry: 100\r\ndata: crlf\r\n\r\n"
    b"data: cr\r\r"
    b"event: empty\n\n"
    b"data:no-space\n\n"
    b"data: last, without its blank line"
)
EVENTS = [
    ("message", b'{"a":1}'),
    ("content_block_delta", b"line one\nline two"),
    ("message", b"crlf"),
    ("message", b"cr"),
    ("message", b"no-space"),
    ("message", b"last, without its blank line"),
]


def decode(pieces: list[bytes]) -> list[tuple[str, bytes]]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    events += decoder.flush()
    return [(event.event, event.data) for event in events]


def test_whole_stream() -> None:
    assert decode([STREAM]) == EVENTS


@pytest.mark.parametrize("seed", range(50))
def test_any_split_gives_the_same_events(seed: int) -> None:
    rng = random.Random(seed)
    pieces, rest = [], STREAM
    while rest:
        size = rng.randint(1, 9)
        pieces.append(rest[:size])
        rest = rest[size:]
    assert decode(pieces) == EVENTS


def test_one_byte_at_a_time() -> None:
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EVENTS


def test_a_huge_event_in_small_pieces_is_whole() -> None:
    body = b"x" * 200_000
    pieces = [b"data: "] + [body[i : i + 100] for i in range(0, len(body), 100)] + [b"\n\n"]
    assert decode(pieces) == [("message", body)]


def test_json_decoder() -> None:
    assert decode_json(b'{"choices": [{"delta": {"content": "hi \\u00e9"}}]}') == {"choices": [{"delta": {"content": "hi é"}}]}
    with pytest.raises(DecodeError):
        decode_json(b'{"choices": [ {not json')


@pytest.mark.parametrize(
    ("content_type", "sse"),
    [("text/event-stream", True), ("text/event-stream; charset=utf-8", True), (None, True),
     ("application/json", False), ("text/html; charset=utf-8", False)],
)
def test_content_type(content_type: str | None, sse: bool) -> None:
    assert is_event_stream(content_type) is sse


def test_a_json_error_with_status_200_names_the_provider_message() -> None:
    failure = not_an_event_stream("application/json", b'{"error": {"message": "model overloaded"}}')
    assert failure.reason == "not_sse" and "model overloaded" in str(failure) and "application/json" in str(failure)
    html = not_an_event_stream("text/html", b"<html><h1>502 Bad Gateway</h1></html>")
    assert "502 Bad Gateway" in str(html)


def test_only_real_sdk_clients_get_the_raw_path() -> None:
    client = openai.OpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    try:
        assert is_sdk_client(client)
    finally:
        client.close()
    assert not is_sdk_client(object())


def test_retry_after_is_parsed_at_the_seam_and_capped_by_the_policy() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx2.Response(429, request=request, headers={"Retry-After": "3600"}, json={"error": {"message": "slow down"}})
    error = status_error(openai.RateLimitError("slow down", response=response, body={"error": {"message": "slow down"}}),
                         where="h", secrets=())
    assert isinstance(error, RateLimitError) and error.retry_after == 3600.0
    assert CallPolicy().backoff(1, error) == 60.0
    assert CallPolicy(max_delay=5).backoff(1, error) == 5.0
