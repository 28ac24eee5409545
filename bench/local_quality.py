"""The local model's quality set: 20 short factual questions with one-word answers.

    PYTHONPATH=. .venv/bin/python -m bench.local_quality      # needs herald[local]; about a minute

Each question is asked through Herald's agent, one conversation each, to the packaged
Gemma 3 270M served by llama-cpp-python, at temperature 0, twice: with the frame the local
default uses ("herald-qa", a few-shot question-and-answer transcript) and with the Gemma
chat frame it used before ("herald-gemma3"). An answer is right when its first line holds
the expected word ("Paris" for France). The end-to-end suite runs the same set and checks
that the new frame clears `FLOOR` and the old one does not.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "paris"),
    ("What is the capital of Japan?", "tokyo"),
    ("What is the largest planet in the solar system?", "jupiter"),
    ("What is the chemical symbol for gold?", "au"),
    ("How many days are in a week?", "seven|7"),
    ("What color is the sky on a clear day?", "blue"),
    ("What is the capital of Germany?", "berlin"),
    ("Which animal is known as the king of the jungle?", "lion"),
    ("What is frozen water called?", "ice"),
    ("What do bees make?", "honey"),
    ("What language is spoken in Spain?", "spanish"),
    ("How many legs does a spider have?", "eight|8"),
    ("What is the capital of Egypt?", "cairo"),
    ("What is the largest ocean on Earth?", "pacific"),
    ("Who wrote Romeo and Juliet?", "shakespeare"),
    ("What is the opposite of hot?", "cold"),
    ("Which planet is known as the Red Planet?", "mars"),
    ("What is the capital of Russia?", "moscow"),
    ("What is the currency of Japan?", "yen"),
    ("What metal is liquid at room temperature?", "mercury"),
)
"""(question, expected word as a regex alternation). Written before the frame was chosen."""

FLOOR = 14
"""Right answers out of 20 the local default must reach (the new frame; the old gets 0)."""
MAX_TOKENS = 16
"""Enough for the first line of either frame's answer."""


def is_right(answer: str, expected: str) -> bool:
    """The answer's first non-empty line holds the expected word."""
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    return bool(lines) and re.search(rf"\b({expected})\b", lines[0].lower()) is not None


@dataclass(frozen=True)
class Score:
    """How one frame did.

    Attributes:
        frame: the server's chat format.
        answers: (question, answer, right) for every question.
        seconds: wall time for all of them.
    """

    frame: str
    answers: tuple[tuple[str, str, bool], ...]
    seconds: float

    @property
    def right(self) -> int:
        return sum(1 for _, _, ok in self.answers if ok)

    def summary(self) -> str:
        return f"{self.frame}: {self.right} of {len(self.answers)} right ({self.seconds:.1f} s)"


def ask_all(base_url: str, model: str, frame: str) -> Score:
    """Ask every question, each in a new conversation, through `AIAgent` at temperature 0."""
    from herald.agent import AIAgent

    started = time.monotonic()
    answers = []
    for question, expected in QUESTIONS:
        agent = AIAgent(
            model, base_url=base_url, skip_context_files=True, skip_memory=True, persist_session=False,
            temperature=0.0, max_tokens=MAX_TOKENS, max_continuations=0, enabled_toolsets=[],
        )
        result = agent.run_conversation(question)
        answer = result["final_response"] or ""
        answers.append((question, answer, is_right(answer, expected)))
    return Score(frame, tuple(answers), time.monotonic() - started)


def measure(frame: str, model_path: Path | None = None) -> Score:
    """Start a local server with `frame` (the packaged model unless `model_path`) and score it."""
    from herald.local import LocalServer, ensure_model, model_alias

    path = ensure_model(model_path)
    with LocalServer(path, alias=model_alias(model_path), chat_format=frame) as server:
        return ask_all(server.base_url, server.alias, frame)


def main() -> int:
    from herald.local import QA_FORMAT, local_extra_available
    from herald.local.serve import CHAT_FORMAT

    if not local_extra_available():
        print("needs the local extra: pip install -e '.[local]'", file=sys.stderr)
        return 2
    for frame in (CHAT_FORMAT, QA_FORMAT):
        score = measure(frame)
        print(score.summary())
        for question, answer, right in score.answers:
            first = (answer.strip().splitlines() or [""])[0]
            print(f"  {'+' if right else '-'} {question} → {first[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
