"""Replies keyed by a marker in the request: concurrent conversations each get their own script."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import openai

from fakeprovider import FakeProvider, Reply


def ask(fake: FakeProvider, text: str) -> str:
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as client:
        completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])
        return completion.choices[0].message.content or ""


def test_each_marker_has_its_own_queue_whatever_the_arrival_order(fake: FakeProvider) -> None:
    for i in range(8):
        fake.enqueue_for(f"<{i}>", Reply(text=f"first {i}"), Reply(text=f"second {i}"))
    fake.default = Reply(text="unmarked")
    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda i: ask(fake, f"question <{i}>"), reversed(range(8))))
        seconds = list(pool.map(lambda i: ask(fake, f"again <{i}>"), range(8)))
    assert firsts == [f"first {i}" for i in reversed(range(8))]
    assert seconds == [f"second {i}" for i in range(8)]
    assert ask(fake, "no marker") == "unmarked"
    assert ask(fake, "spent <3>") == "unmarked"  # a marker's queue, once empty, falls through
