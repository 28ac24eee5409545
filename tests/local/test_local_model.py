"""Model location and the atomic assembly of the packaged model (with a stand-in package)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from herald.local import LocalExtraMissing, LocalModelError, default_model_path, ensure_model
from herald.local.model import MODEL_PACKAGE


def test_default_path_is_under_herald_home(herald_home: Path) -> None:
    assert default_model_path() == herald_home / "data" / "models" / "gemma-3-270m-q4_k_m.gguf"


def test_default_path_uses_platform_data_dir_without_herald_home(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("HERALD_HOME", raising=False)
    assert default_model_path().parent.parent == Path(platformdirs.user_data_dir("herald"))


def fake_package(monkeypatch: pytest.MonkeyPatch, assemble: object) -> list[Path]:
    calls: list[Path] = []

    def record(path: Path, overwrite: bool = False) -> Path:
        calls.append(Path(path))
        return assemble(Path(path))  # type: ignore[operator]

    monkeypatch.setitem(sys.modules, MODEL_PACKAGE, SimpleNamespace(assemble=record))
    return calls


def test_packaged_model_is_assembled_once_under_a_temp_name(herald_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def assemble(path: Path) -> Path:
        path.write_bytes(b"GGUF model")
        return path

    calls = fake_package(monkeypatch, assemble)
    path = ensure_model()
    assert path == default_model_path() and path.read_bytes() == b"GGUF model"
    assert calls[0] != path and calls[0].parent == path.parent  # never written in place
    assert ensure_model() == path and len(calls) == 1  # reused
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_failed_assembly_leaves_nothing_behind(herald_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def assemble(path: Path) -> Path:
        path.write_bytes(b"GGUF half")
        raise ValueError("Assembled file sha256 did not match expected value")

    fake_package(monkeypatch, assemble)
    with pytest.raises(ValueError, match="sha256"):
        ensure_model()
    assert list(default_model_path().parent.iterdir()) == []


def test_missing_model_package_names_the_install_line(herald_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODEL_PACKAGE, None)  # makes the import fail
    with pytest.raises(LocalExtraMissing, match=r"pip install 'herald\[local\]'"):
        ensure_model()


def test_a_given_gguf_is_used_as_is(gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODEL_PACKAGE, None)  # the package is not needed
    assert ensure_model(gguf) == gguf
    assert ensure_model(str(gguf)) == gguf


def test_a_given_missing_path_is_an_error_not_an_assembly(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="no model file"):
        ensure_model(tmp_path / "typo.gguf")
    assert not (tmp_path / "typo.gguf").exists()
