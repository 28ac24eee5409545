"""A cut answer continues in place, over real HTTP, with one test body for both agents.

The fake provider continues its scripted answer from the prefix it is given (or refuses prefill
with a 400, as newer Claude models do). Each test asserts what the consumers were shown (deltas,
resets, `continued`), what the server saw, and the turn's result.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from fakeprovider import FakeProvider, Reply, ToolCallSpec, cut_then_continue
from herald import AIAgent, AsyncAIAgent
from herald.sessions import SessionStore

KEY = "herald-continuation-secret-77a1"
TEXT = "Continuation keeps what was shown and adds only what is new, so nothing is paid for twice."


@dataclass
class Seen:
    """What the consumers were shown, and the turn's result."""

    deltas: list[str] = field(default_factory=list)
    resets: int = 0
    continued: int = 0
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        return "".join(self.deltas)


Run = Callable[..., Seen]


@pytest.fixture(params=["AIAgent", "AsyncAIAgent"])
def run(request: pytest.FixtureRequest, tmp_path: Any) -> Run:
    def one_turn(fake: FakeProvider, *, wire: str = "chat", question: str = "q", **options: Any) -> Seen:
        seen = Seen()

        def reset() -> None:
            seen.resets += 1
            seen.deltas.clear()

        def continued() -> None:
            seen.continued += 1

        settings: dict[str, Any] = dict(
            model="m", api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True, cwd=tmp_path,
            persist_session=False, enabled_toolsets=[], max_retries=0, stream_delta_callback=seen.deltas.append,
            stream_reset_callback=reset, stream_continued_callback=continued,
        )
        if wire == "anthropic":
            settings.update(base_url=fake.anthropic_base_url, api_mode="anthropic_messages")
        else:
            settings.update(base_url=fake.base_url)
        settings.update(options)
        if request.param == "AIAgent":
            seen.result = AIAgent(**settings).run_conversation(question)
        else:
            seen.result = asyncio.run(AsyncAIAgent(**settings).run_conversation(question))
        return seen

    return one_turn


def posts(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


def modes(seen: Seen) -> list[tuple[str, str, str | None]]:
    return [(a["mode"], a["outcome"], a["next"]) for a in seen.result["attempts"]]


@pytest.mark.parametrize("wire", ["chat", "anthropic"])
def test_a_cut_answer_continues_in_place(fake: FakeProvider, run: Run, wire: str) -> None:
    fake.enqueue(*cut_then_continue(TEXT, after=6, usage=(10, 90)))
    seen = run(fake, wire=wire, continuation="prefill")
    assert seen.result["final_response"] == TEXT
    assert seen.shown == TEXT, "nothing shown twice, nothing lost at the seam"
    assert (seen.resets, seen.continued, seen.result["continuations"]) == (0, 1, 1)
    first, second = posts(fake)
    assert first.stream and second.stream
    last = second.body["messages"][-1]
    assert last["role"] == "assistant"
    if wire == "chat":
        assert last == {"role": "assistant", "content": TEXT[:24], "prefix": True}
        assert second.body["continue_final_message"] is True and second.body["add_generation_prompt"] is False
    else:
        assert last["content"] == [{"type": "text", "text": TEXT[:24].rstrip()}]
    assert modes(seen) == [("stream", "stream_failed", "continue"), ("continue", "ok", None)]
    assert 0 < seen.result["usage"]["output_tokens"] < 90, "only the new tokens were generated"


def test_an_echoed_prefix_is_not_shown_twice(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(Reply(TEXT, fault="cut", fault_after=5), Reply(TEXT, echo_prefix=True))
    seen = run(fake, continuation="prefill")
    assert seen.shown == TEXT and seen.result["final_response"] == TEXT


def test_a_refused_prefill_restarts_and_is_remembered(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(Reply(TEXT, fault="cut", fault_after=5), Reply(TEXT, reject_prefill=True))
    fake.default = Reply(TEXT)
    seen = run(fake, wire="anthropic", continuation="prefill")
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT
    assert (seen.resets, seen.continued, seen.result["continuations"]) == (1, 0, 0)
    assert [r.stream for r in posts(fake)] == [True, True, False]
    assert modes(seen) == [("stream", "stream_failed", "continue"), ("continue", "rejected", "plain"), ("plain", "ok", None)]


def test_the_refusal_never_becomes_the_calls_error(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(
        Reply(TEXT, fault="cut", fault_after=5),
        Reply(TEXT, reject_prefill=True),
        Reply(fault="http_error", status=500, error_message="the original trouble"),
    )
    seen = run(fake, wire="anthropic", continuation="prefill")
    assert seen.result["failed"]
    assert "prefill" not in seen.result["error"] and "original trouble" in seen.result["error"]


def test_off_and_auto_on_an_unknown_server_restart_as_before(fake: FakeProvider, run: Run) -> None:
    for setting in ("off", None):
        fake.clear()
        fake.enqueue(Reply(TEXT, fault="cut", fault_after=5))
        fake.default = Reply(TEXT)
        seen = run(fake, continuation=setting)
        assert seen.result["final_response"] == TEXT and seen.shown == TEXT
        assert (seen.resets, seen.continued) == (1, 0)
        assert [r.stream for r in posts(fake)] == [True, False]


@pytest.mark.parametrize("server", ["llama.cpp", "herald-local"])
def test_auto_continues_on_a_server_that_names_itself(fake: FakeProvider, run: Run, server: str) -> None:
    # The `Server` header of the very stream that broke is enough: no request of its own.
    fake.server_header = server
    fake.enqueue(*cut_then_continue(TEXT, after=6))
    seen = run(fake)  # continuation: "auto", the default
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT
    assert (seen.resets, seen.continued, seen.result["continuations"]) == (0, 1, 1)
    assert [r.method for r in fake.requests] == ["POST", "POST"], "learned from the headers: no GET /models"
    assert posts(fake)[1].body["messages"][-1]["prefix"] is True


def test_auto_does_not_continue_where_the_header_names_another_server(fake: FakeProvider, run: Run) -> None:
    fake.server_header = "uvicorn"  # vLLM and SGLang say this too: not enough to tell
    fake.enqueue(Reply(TEXT, fault="cut", fault_after=5))
    fake.default = Reply(TEXT)
    seen = run(fake)
    assert (seen.resets, seen.continued) == (1, 0)
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT


def test_a_cut_inside_a_tool_call_is_never_continued(fake: FakeProvider, run: Run) -> None:
    call = ToolCallSpec("search_files", '{"pattern": "needle", "path": "."}')
    fake.enqueue(Reply("Looking.", tool_calls=[call], fault="cut", fault_after=4))
    fake.default = Reply("done")
    seen = run(fake, continuation="prefill")
    second = posts(fake)[1]
    assert not any(m.get("prefix") for m in second.body["messages"] if isinstance(m, dict))
    assert seen.result["continuations"] == 0


def test_the_async_stream_yields_continued_and_no_reset(fake: FakeProvider, tmp_path: Any) -> None:
    fake.enqueue(*cut_then_continue(TEXT, after=6))
    agent = AsyncAIAgent(
        model="m", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
        cwd=tmp_path, persist_session=False, enabled_toolsets=[], max_retries=0, continuation="prefill",
    )

    async def collect() -> list[Any]:
        return [event async for event in agent.stream("q")]

    events = asyncio.run(collect())
    kinds = [e.kind for e in events]
    assert "reset" not in kinds and kinds.count("continued") == 1
    assert "".join(e.text for e in events if e.kind == "text") == TEXT
    assert events[-1].result["continuations"] == 1


# ── the length limit: the same continuation ─────────────────────────────


def continued_tokens(total: int, rest: str) -> int:
    """What the fake reports for a continuation serving `rest` of TEXT scripted with `total` tokens."""
    return max(round(total * len(rest) / len(TEXT)), 1)


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("wire", ["chat", "anthropic"])
def test_an_answer_cut_by_the_length_limit_is_continued_from_its_text(fake: FakeProvider, run: Run, wire: str, streaming: bool) -> None:
    fake.enqueue(Reply(TEXT[:30], finish_reason="length", usage=(10, 8)), Reply(TEXT, usage=(10, 24)))
    quiet = {} if streaming else dict(stream_delta_callback=None, stream_reset_callback=None, stream_continued_callback=None)
    seen = run(fake, wire=wire, continuation="prefill", **quiet)
    result = seen.result
    assert result["final_response"] == TEXT and result["completed"] and not result["truncated"]
    if streaming:
        assert seen.shown == TEXT and (seen.resets, seen.continued) == (0, 1)
    first, second = posts(fake)
    assert first.stream is streaming and second.stream is streaming
    last = second.body["messages"][-1]
    sent = TEXT[:30] if wire == "chat" else TEXT[:30].rstrip()
    assert last["role"] == "assistant" and (last["content"] == sent or last["content"] == [{"type": "text", "text": sent}])
    assert not any("cut off" in str(m.get("content")) for m in second.body["messages"]), "no user message asking to go on"
    assert result["continuations"] == 1 and result["api_calls"] == 1
    assert [m["role"] for m in result["messages"]] == ["user", "assistant"] and result["messages"][1]["content"] == TEXT
    assert result["usage"]["output_tokens"] == 8 + continued_tokens(24, TEXT[len(sent):]), "usage sums both answers"
    assert [(a["mode"], a["finish_reason"]) for a in result["attempts"]] == [("stream" if streaming else "plain", "length"), ("continue", "stop")]


def test_the_length_continuations_stop_at_max_continuations(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(Reply(TEXT[:20], finish_reason="length"), Reply(TEXT[:40], finish_reason="length"))
    fake.default = Reply("never asked")
    seen = run(fake, continuation="prefill", max_continuations=1)
    assert seen.result["final_response"] == TEXT[:40] == seen.shown
    assert seen.result["truncated"] and seen.result["continuations"] == 1
    assert len(posts(fake)) == 2


def test_where_the_provider_cannot_continue_the_length_limit_asks_as_before(fake: FakeProvider, run: Run) -> None:
    # "auto" on a server it does not know: the answer is continued by asking for the rest.
    fake.enqueue(Reply(TEXT[:30], finish_reason="length"), Reply(TEXT[30:]))
    seen = run(fake)
    assert seen.result["final_response"] == TEXT and seen.result["continuations"] == 0
    second = posts(fake)[1]
    assert second.body["messages"][-1]["role"] == "user" and "cut off" in second.body["messages"][-1]["content"]


def test_a_refused_length_continuation_keeps_the_answer_and_asks_as_before(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(Reply(TEXT[:30], finish_reason="length"), Reply(TEXT, reject_prefill=True), Reply(TEXT[30:]))
    seen = run(fake, wire="anthropic", continuation="prefill")
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT and seen.resets == 0
    third = posts(fake)[2]
    assert third.body["messages"][-1]["role"] == "user", "the refusal is remembered: the old way"


def test_the_turns_output_token_limit_stops_the_length_continuations(fake: FakeProvider, run: Run) -> None:
    fake.enqueue(Reply(TEXT[:30], finish_reason="length", usage=(10, 8)))
    fake.default = Reply("never asked")
    seen = run(fake, continuation="prefill", max_output_tokens=8)
    assert len(posts(fake)) == 1, "8 of 8 tokens spent: nothing more is asked for"
    assert seen.result["final_response"] == TEXT[:30] and seen.result["limit"] == "tokens"


# ── a cut after reasoning, before any answer text ──────────────────────

THOUGHT = "The user asks something simple; answer plainly."


@pytest.mark.parametrize("wire", ["chat", "anthropic"])
def test_a_cut_after_reasoning_before_any_text_restarts(fake: FakeProvider, run: Run, wire: str) -> None:
    # Reasoning was shown but no answer text: there is nothing to continue (and on Anthropic the
    # thinking block is signed, on the chat wire the reasoning is not sent back): a restart.
    fake.enqueue(Reply(TEXT, reasoning=THOUGHT, fault="cut", fault_after=3))
    fake.default = Reply(TEXT, reasoning=THOUGHT)
    thoughts: list[str] = []
    seen = run(fake, wire=wire, continuation="prefill", reasoning_callback=thoughts.append)
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT
    assert (seen.resets, seen.continued, seen.result["continuations"]) == (1, 0, 0)
    assert "".join(thoughts).endswith(THOUGHT), "the restart shows its reasoning"
    second = posts(fake)[1]
    assert second.body["messages"][-1]["role"] == "user", "no assistant prefix: a restart"
    assert modes(seen) == [("stream", "stream_failed", "plain"), ("plain", "ok", None)]


def test_a_cut_after_signed_reasoning_and_some_text_restarts(fake: FakeProvider, run: Run) -> None:
    # Anthropic's thinking block carries a signature the cut stream never delivered: it cannot be
    # sent back, and a prefill without it would lose the reasoning: a restart.
    chunks = len(Reply(reasoning=THOUGHT).pieces(THOUGHT))
    fake.enqueue(Reply(TEXT, reasoning=THOUGHT, fault="cut", fault_after=chunks + 4))
    fake.default = Reply(TEXT, reasoning=THOUGHT)
    seen = run(fake, wire="anthropic", continuation="prefill")
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT
    assert (seen.resets, seen.continued) == (1, 0)
    assert all(m["role"] != "assistant" for m in posts(fake)[1].body["messages"])


def test_a_cut_after_unsigned_reasoning_and_some_text_continues_the_text(fake: FakeProvider, run: Run) -> None:
    # The chat wire's reasoning (reasoning_content) is not signed and not part of the answer: the
    # answer text shown is continued; the reasoning shown stays on screen.
    chunks = len(Reply(reasoning=THOUGHT).pieces(THOUGHT))
    fake.enqueue(Reply(TEXT, reasoning=THOUGHT, fault="cut", fault_after=chunks + 4), Reply(TEXT))
    seen = run(fake, continuation="prefill")
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT
    assert (seen.resets, seen.continued, seen.result["continuations"]) == (0, 1, 1)
    assert posts(fake)[1].body["messages"][-1] == {"role": "assistant", "content": TEXT[:16], "prefix": True}


# ── an interrupt during a continuation keeps the whole shown answer ─────

LONG = "A continued answer that the user interrupts keeps every word the user saw, the old and the new. " * 4


def test_interrupting_a_continuation_keeps_what_was_shown(fake: FakeProvider, tmp_path: Any) -> None:
    fake.enqueue(Reply(LONG, fault="cut", fault_after=6), Reply(LONG, delay=0.05))
    deltas: list[str] = []
    after: list[str] = []
    agent: AIAgent

    def delta(text: str) -> None:
        deltas.append(text)
        if continued:
            after.append(text)
            if len(after) == 3:
                agent.interrupt()

    continued: list[bool] = []
    agent = AIAgent(
        model="m", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
        cwd=tmp_path, persist_session=False, enabled_toolsets=[], max_retries=0, continuation="prefill",
        stream_delta_callback=delta, stream_continued_callback=lambda: continued.append(True),
    )
    result = agent.run_conversation("q")
    assert result["interrupted"] and continued
    shown = "".join(deltas)
    assert len(shown) > 24 and LONG.startswith(shown)
    last = result["messages"][-1]
    assert last["role"] == "assistant" and last.get("interrupted")
    assert last["content"].startswith(shown), "the text shown before the cut is part of the partial answer"


def test_cancelling_an_async_continuation_keeps_what_was_shown(fake: FakeProvider, tmp_path: Any) -> None:
    fake.enqueue(Reply(LONG, fault="cut", fault_after=6), Reply(LONG, delay=0.05))
    store = SessionStore(tmp_path / "sessions.db")
    agent = AsyncAIAgent(
        model="m", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
        cwd=tmp_path, persist_session=True, session_store=store, enabled_toolsets=[], max_retries=0, continuation="prefill",
    )
    texts: list[str] = []

    async def main() -> None:
        enough = asyncio.Event()

        async def consume() -> None:
            after = 0
            continued = False
            async for event in agent.stream("q"):
                if event.kind == "continued":
                    continued = True
                if event.kind == "text":
                    texts.append(event.text)
                    after += continued
                    if after == 3:
                        enough.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(enough.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    shown = "".join(texts)
    assert len(shown) > 24 and LONG.startswith(shown)
    (session,) = store.list_sessions()
    last = store.load_messages(session.id)[-1]
    assert last["role"] == "assistant" and last.get("interrupted")
    assert last["content"].startswith(shown), "the text shown before the cut is part of the partial answer"
    store.close()


# ── vLLM and SGLang: named by their /v1/models listing, read once after a cut ──


def gets(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.method == "GET"]


@pytest.mark.parametrize("owner", ["vllm", "sglang"])
def test_auto_reads_the_listing_once_after_a_cut_on_a_uvicorn_server(fake: FakeProvider, run: Run, owner: str) -> None:
    fake.server_header, fake.owned_by, fake.known_models = "uvicorn", owner, {"m"}
    fake.enqueue(*cut_then_continue(TEXT, after=6))
    seen = run(fake)  # continuation: "auto"
    assert seen.result["final_response"] == TEXT and seen.shown == TEXT
    assert (seen.resets, seen.continued, seen.result["continuations"]) == (0, 1, 1)
    assert [r.path.rsplit("/", 1)[-1] for r in gets(fake)] == ["models"]
    assert [r.method for r in fake.requests] == ["POST", "GET", "POST"], "read after the cut, not before"


def test_the_listing_is_read_once_per_endpoint_and_never_without_a_cut(fake: FakeProvider, tmp_path: Any) -> None:
    fake.server_header, fake.owned_by, fake.known_models = "uvicorn", "fakeprovider", {"m"}
    fake.enqueue(Reply(TEXT), *cut_then_continue(TEXT, after=6), *cut_then_continue(TEXT, after=6))
    agent = AIAgent(
        model="m", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
        cwd=tmp_path, persist_session=False, enabled_toolsets=[], max_retries=0, stream_delta_callback=lambda text: None,
    )
    assert agent.run_conversation("one")["final_response"] == TEXT
    assert gets(fake) == [], "an answer that was not cut reads nothing"
    for question in ("two", "three"):
        result = agent.run_conversation(question)
        assert result["final_response"] == TEXT and result["continuations"] == 0  # not vLLM: a restart
    assert len(gets(fake)) == 1, "one listing for the endpoint, whatever the cuts"


@pytest.mark.parametrize(("header", "setting"), [(None, None), ("uvicorn", "off")])
def test_no_listing_where_the_headers_rule_it_out_or_continuation_is_off(fake: FakeProvider, run: Run, header: str | None, setting: str | None) -> None:
    fake.server_header, fake.owned_by, fake.known_models = header, "vllm", {"m"}
    fake.enqueue(Reply(TEXT, fault="cut", fault_after=5))
    fake.default = Reply(TEXT)
    seen = run(fake, continuation=setting)
    assert seen.result["final_response"] == TEXT and (seen.resets, seen.continued) == (1, 0)
    assert gets(fake) == []


def test_interrupting_a_plain_length_continuation_keeps_the_answer_it_continued(fake: FakeProvider, tmp_path: Any) -> None:
    import threading

    fake.enqueue(Reply(TEXT[:30], finish_reason="length"), Reply(TEXT, delay=0.1, pace_plain=True))
    agent = AIAgent(
        model="m", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
        cwd=tmp_path, persist_session=False, enabled_toolsets=[], max_retries=0, continuation="prefill",
    )  # no stream consumers: plain requests

    def interrupt_once_continuing() -> None:
        while len(posts(fake)) < 2:
            threading.Event().wait(0.01)
        agent.interrupt()

    threading.Thread(target=interrupt_once_continuing, daemon=True).start()
    result = agent.run_conversation("q")
    assert result["interrupted"] and not posts(fake)[1].stream
    assert result["final_response"] == TEXT[:30]
    assert result["messages"][-1] == {"role": "assistant", "content": TEXT[:30], "interrupted": True}


def test_a_plain_answer_teaches_the_server_too(fake: FakeProvider, run: Run) -> None:
    # No stream consumers: plain requests. Their headers name the server as a stream's do, so an
    # answer the length limit cut is continued from its text on a llama.cpp server.
    fake.server_header = "llama.cpp"
    fake.enqueue(Reply(TEXT[:30], finish_reason="length"), Reply(TEXT))
    seen = run(fake, stream_delta_callback=None, stream_reset_callback=None, stream_continued_callback=None)
    assert seen.result["final_response"] == TEXT and seen.result["continuations"] == 1
    first, second = posts(fake)
    assert not first.stream and not second.stream
    assert second.body["messages"][-1] == {"role": "assistant", "content": TEXT[:30], "prefix": True}


def test_a_length_cut_answer_on_a_uvicorn_server_reads_the_listing_once(fake: FakeProvider, run: Run) -> None:
    fake.server_header, fake.owned_by, fake.known_models = "uvicorn", "vllm", {"m"}
    fake.enqueue(Reply(TEXT[:30], finish_reason="length"), Reply(TEXT))
    seen = run(fake, continuation=None)
    assert seen.result["final_response"] == TEXT and seen.result["continuations"] == 1
    assert [r.method for r in fake.requests] == ["POST", "GET", "POST"]
    assert posts(fake)[1].body["messages"][-1]["prefix"] is True


def test_cancelling_a_plain_length_continuation_keeps_the_answer_it_continued(fake: FakeProvider, tmp_path: Any) -> None:
    # The awaited agent's interrupt is a cancelled task: what it leaves is the plan's to say, as above.
    from herald.sessions import SessionStore

    fake.enqueue(Reply(TEXT[:30], finish_reason="length"), Reply(TEXT, delay=0.1, pace_plain=True))
    store = SessionStore(tmp_path / "sessions.db")

    async def cancelled_while_continuing() -> None:
        async with AsyncAIAgent(
            model="m", base_url=fake.base_url, api_key=KEY, quiet_mode=True, skip_context_files=True, skip_memory=True,
            cwd=tmp_path, session_store=store, enabled_toolsets=[], max_retries=0, continuation="prefill",
        ) as agent:  # no stream consumers: plain requests
            turn = asyncio.create_task(agent.run_conversation("q"))
            while len(posts(fake)) < 2 and not turn.done():
                await asyncio.sleep(0.01)
            assert not turn.done(), "the turn ended before its continuation could be cancelled"
            turn.cancel()
            with pytest.raises(asyncio.CancelledError):
                await turn

    asyncio.run(cancelled_while_continuing())
    assert not posts(fake)[1].stream
    (session,) = store.list_sessions()
    assert store.load_messages(session.id)[-1] == {"role": "assistant", "content": TEXT[:30], "interrupted": True}
