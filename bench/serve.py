"""`python -m bench.serve TEXT_CHARS CHUNK_CHARS`: a fake provider in its own process.

Prints its base URL on one line, then serves `Reply(text=…, chunk_chars=…)` to every
request until its standard input closes. Running the server out of process keeps its
CPU time (building and writing tens of thousands of SSE events) out of the client's.
"""

from __future__ import annotations

import sys

from fakeprovider import FakeProvider, Reply


def answer_text(chars: int) -> str:
    """A deterministic answer of `chars` characters that looks like prose."""
    words = "the quick brown fox jumps over the lazy dog and keeps on running "
    return (words * (chars // len(words) + 1))[:chars]


def main(argv: list[str]) -> int:
    chars, chunk_chars = int(argv[0]), int(argv[1])
    with FakeProvider() as fake:
        fake.default = Reply(text=answer_text(chars), chunk_chars=chunk_chars)
        print(fake.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
