"""The local default's quality set against the real model: the new frame clears the floor, the old does not.

The same set and scoring as `python -m bench.local_quality` (its numbers are in docs/local-model.md).
"""

from __future__ import annotations

import pytest

from bench.local_quality import FLOOR, QUESTIONS, ask_all, measure
from herald.local import QA_FORMAT, LocalProvider
from herald.local.serve import CHAT_FORMAT

pytestmark = pytest.mark.e2e  # skipped or failed without the extra: see conftest


def test_the_question_and_answer_frame_clears_the_floor_and_the_chat_frame_does_not(local_provider: LocalProvider) -> None:
    assert local_provider.server.chat_format == QA_FORMAT  # what the local default runs
    new = ask_all(local_provider.base_url, local_provider.model, QA_FORMAT)
    old = measure(CHAT_FORMAT)  # the same model behind the frame used before
    print(f"\n{new.summary()}\n{old.summary()}")
    assert len(new.answers) == len(QUESTIONS) == 20
    assert new.right >= FLOOR, new.answers
    assert old.right < FLOOR, old.answers
    # The small model's answers are single lines, with no glued words or echoed markers.
    for _, answer, _ in new.answers:
        assert answer == answer.strip() and "\n" not in answer
        assert "interrupted" not in answer and "Question:" not in answer
