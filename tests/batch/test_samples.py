"""Input rows: every problem is found before anything runs, each naming its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from herald.batch.samples import MAX_SHOWN, check_input, iter_samples, parse_row
from herald.errors import BatchFileError, UserError


def lines(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(BatchFileError) as caught:
        check_input(path)
    assert isinstance(caught.value, UserError)  # exit code 2 in the CLI
    return caught.value.problems


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = lines(tmp_path, '{"id": "a", "prompt": "x"}', '{"id": "b", "prompt": "y"}', '{"id": "a", "prompt": "z"}')
    assert problems(path) == ["duplicate id 'a' on line 3 (first on line 1)"]


def test_every_kind_of_bad_row_is_reported_with_its_line(tmp_path: Path) -> None:
    path = lines(
        tmp_path,
        "not json",
        '["a list"]',
        '{"prompt": "no id"}',
        '{"id": "n"}',
        '{"id": "both", "prompt": "p", "messages": [{"role": "user", "content": "m"}]}',
        '{"id": true, "prompt": "p"}',
        '{"id": "", "prompt": "p"}',
        '{"id": "x", "prompt": "p", "answer": 4}',
        '{"id": "e", "prompt": "  "}',
    )
    found = problems(path)
    assert found[0].startswith("not JSON on line 1: Expecting value")
    assert found[1] == "line 2 is a JSON list, not an object with an id"
    assert found[2] == "missing id on line 3"
    assert found[3] == "neither prompt nor messages on line 4 (id 'n'): give exactly one"
    assert found[4] == "both prompt and messages on line 5 (id 'both'): give exactly one"
    assert found[5] == "id must be a string or an integer on line 6, not true"
    assert found[6] == "empty id on line 7"
    assert found[7].startswith("unknown field 'answer' on line 8") and "metadata" in found[7]
    assert found[8] == "prompt must be non-empty text on line 9 (id 'e')"


def test_message_rows_must_end_with_the_users_turn(tmp_path: Path) -> None:
    path = lines(
        tmp_path,
        json.dumps({"id": 1, "messages": []}),
        json.dumps({"id": 2, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}),
        json.dumps({"id": 3, "messages": [{"role": "wizard", "content": "q"}]}),
        json.dumps({"id": 4, "messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "late"}, {"role": "user", "content": "q"}]}),
        json.dumps({"id": 5, "system": "s", "messages": [{"role": "system", "content": "t"}, {"role": "user", "content": "q"}]}),
        json.dumps({"id": 6, "messages": [{"role": "tool", "content": "r"}, {"role": "user", "content": "q"}]}),
    )
    found = problems(path)
    assert found == [
        "messages must be a non-empty list on line 1 (id 1)",
        "the last message must be the user's, with text content on line 2 (id 2)",
        "message 1 needs a role (system, user, assistant, tool) on line 3 (id 3)",
        "message 2: system messages must come first on line 4 (id 4)",
        "both a system field and a system message on line 5 (id 5): give one",
        "message 1: a tool message needs a tool_call_id on line 6 (id 6)",
    ]


def test_many_problems_are_counted_beyond_the_ones_shown(tmp_path: Path) -> None:
    path = lines(tmp_path, *["{}"] * (MAX_SHOWN + 5))
    with pytest.raises(BatchFileError) as caught:
        check_input(path)
    assert len(caught.value.problems) == MAX_SHOWN and caught.value.total == MAX_SHOWN + 5
    assert str(caught.value).endswith("(and 5 more)")


def test_empty_and_missing_files_are_refused(tmp_path: Path) -> None:
    assert problems(lines(tmp_path, "  ")) == ["no samples: the file has no rows"]
    assert problems(tmp_path / "nope.jsonl")[0].startswith("cannot read: ")


def test_ids_of_different_types_are_different_ids(tmp_path: Path) -> None:
    path = lines(tmp_path, '{"id": 7, "prompt": "a"}', '{"id": "7", "prompt": "b"}', "", '{"id": "é", "prompt": "c"}')
    assert check_input(path) == ["7", '"7"', '"é"']
    assert [(s.id, s.line) for s in iter_samples(path)] == [(7, 1), ("7", 2), ("é", 4)]


def test_messages_split_into_system_history_and_the_users_turn() -> None:
    row = {
        "id": "m",
        "metadata": {"source": "eval"},
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "and now?"},
        ],
    }
    sample = parse_row(json.dumps(row), 4)
    assert sample.user_message == "and now?" and sample.system == "be brief"
    assert sample.history == ({"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"})
    assert sample.metadata == {"source": "eval"} and sample.line == 4


def test_the_documented_example_input_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "batch.md").read_text(encoding="utf-8")
    example = readme.split("cat > questions.jsonl <<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
    path = tmp_path / "questions.jsonl"
    path.write_text(example + "\n", encoding="utf-8")
    assert check_input(path) == ['"q1"', '"q2"']
    second = list(iter_samples(path))[1]
    assert second.system == "Answer in one word." and second.user_message == "Capital of Italy?"
