"""Section 3: from `interrupt()` to the call raising `Interrupted`, mid-stream and mid-request."""

from __future__ import annotations

import threading
import time
from typing import Callable

import openai

from bench.contenders import API_KEY, MESSAGES, MODEL, make_agent, request_kwargs
from bench.servers import SilentServer
from bench.stats import percentile
from bench.table import Row, ms, ratio
from fakeprovider import FakeProvider, Reply
from herald.errors import Interrupted

SECTION = "3 interrupt"
TARGET_P95 = 0.050
CHUNK_DELAY = 0.05
JOIN_LIMIT = 5.0


class _FirstDelta:
    """A display callback that signals when text starts arriving."""

    def __init__(self) -> None:
        self.arrived = threading.Event()

    def __call__(self, text: str) -> None:
        self.arrived.set()


def _offset(run_no: int) -> float:
    """Where in the gap between chunks to interrupt: spread evenly over one chunk interval."""
    return (run_no * 0.37 % 1.0) * CHUNK_DELAY


def _latency(call: Callable[[], object], stop: Callable[[], None], wait_ready: Callable[[], None], delay: float) -> float:
    """Start `call` in a thread, wait until it is under way, stop it; seconds until it gave up."""
    ended: list[float] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            call()
            errors.append(AssertionError("the call finished instead of being interrupted"))
        except Interrupted:
            ended.append(time.perf_counter())
        except BaseException as error:  # noqa: BLE001 - reported to the benchmark's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="bench-call", daemon=True)
    thread.start()
    wait_ready()
    time.sleep(delay)
    start = time.perf_counter()
    stop()
    thread.join(JOIN_LIMIT)
    if errors:
        raise errors[0]
    if not ended:
        raise AssertionError(f"the call did not stop within {JOIN_LIMIT} s of interrupt()")
    return ended[0] - start





def _mid_stream(runs: int, text: str) -> tuple[list[float], list[float]]:
    """Herald's streaming call and a bare SDK loop that checks a stop flag per chunk."""
    herald_times: list[float] = []
    sdk_times: list[float] = []
    with FakeProvider() as fake:
        fake.default = Reply(text=text, chunk_chars=4, delay=CHUNK_DELAY)
        first = _FirstDelta()
        agent = make_agent(fake.base_url, first)
        client = openai.OpenAI(api_key=API_KEY, base_url=fake.base_url, max_retries=0)

        def herald_call() -> object:
            return agent._interruptible_streaming_api_call({"model": MODEL, "messages": MESSAGES})

        def herald_ready() -> None:
            first.arrived.wait(JOIN_LIMIT)

        try:
            for run_no in range(runs):
                first.arrived.clear()
                agent.clear_interrupt()
                herald_times.append(_latency(herald_call, agent.interrupt, herald_ready, _offset(run_no)))
                sdk_times.append(_sdk_flag_latency(client, _offset(run_no)))
        finally:
            agent.clear_interrupt()
            agent.close()
            client.close()
    return herald_times, sdk_times


def _sdk_flag_latency(client: openai.OpenAI, delay: float) -> float:
    """The usual hand-written stop: a flag checked between chunks, then closing the stream."""
    stop = threading.Event()
    started = threading.Event()

    def call() -> None:
        stream = client.chat.completions.create(**request_kwargs())
        try:
            for _ in stream:
                started.set()
                if stop.is_set():
                    raise Interrupted()
        finally:
            stream.close()

    return _latency(call, stop.set, lambda: started.wait(JOIN_LIMIT), delay)


def _silent(runs: int, streaming: bool) -> list[float]:
    """Herald's call to a server that accepts the request and never answers."""
    with SilentServer() as silent:
        agent = make_agent(silent.base_url, _FirstDelta(), max_retries=0)
        kwargs = {"model": MODEL, "messages": MESSAGES}

        def call() -> object:
            if streaming:
                return agent._interruptible_streaming_api_call(kwargs)
            return agent._interruptible_api_call(kwargs)

        def ready() -> None:
            silent.received.wait(JOIN_LIMIT)

        out = []
        for run_no in range(runs):
            silent.received.clear()
            agent.clear_interrupt()
            out.append(_latency(call, agent.interrupt, ready, _offset(run_no)))
        agent.clear_interrupt()
        agent.close()
    return out


def _leftover_workers(limit: float = 2.0) -> int:
    """Herald worker threads still alive `limit` s after their servers closed (should be 0)."""
    deadline = time.monotonic() + limit
    while True:
        alive = [t for t in threading.enumerate() if t.name.startswith("herald-")]
        if not alive or time.monotonic() > deadline:
            return len(alive)
        time.sleep(0.05)


def _summary(times: list[float]) -> str:
    return f"p50 {ms(percentile(times, 50))} / p95 {ms(percentile(times, 95))}"


def run(quick: bool) -> list[Row]:
    runs = 3 if quick else 20
    text = "lorem ipsum dolor sit amet " * (40 if quick else 200)
    herald_stream, sdk_stream = _mid_stream(runs, text)
    before_first_byte = _silent(runs, streaming=True)
    plain = _silent(runs, streaming=False)
    leftover = _leftover_workers()
    target = f"p95 ≤ {ms(TARGET_P95)}"
    rows = [
        Row(SECTION, f"mid-stream ({CHUNK_DELAY * 1000:.0f} ms/chunk), {runs} runs", _summary(herald_stream),
            f"{_summary(sdk_stream)} (SDK loop + stop flag)",
            ratio(percentile(herald_stream, 95), percentile(sdk_stream, 95)), target, percentile(herald_stream, 95) <= TARGET_P95),
        Row(SECTION, f"stream, before first byte (silent server), {runs} runs", _summary(before_first_byte),
            "blocks until a byte or timeout", "—", target, percentile(before_first_byte, 95) <= TARGET_P95),
        Row(SECTION, f"plain request (silent server), {runs} runs", _summary(plain),
            "blocks until timeout", "—", target, percentile(plain, 95) <= TARGET_P95),
        Row(SECTION, "worker threads left 2 s after servers closed", str(leftover), "—", "—", "0", leftover == 0),
    ]
    return rows
