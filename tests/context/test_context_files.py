"""Finding, capping and rendering AGENTS.md / .herald.md."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from herald.context.files import find_repo_root, load_context_files, search_dirs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "pkg" / "sub").mkdir(parents=True)
    return root


def test_nothing_found(repo: Path) -> None:
    assert load_context_files(repo / "pkg") is None


def test_nearest_file_of_each_kind_wins(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("root agents")
    (repo / "pkg" / "AGENTS.md").write_text("pkg agents")
    (repo / ".herald.md").write_text("root herald")
    bundle = load_context_files(repo / "pkg" / "sub")
    assert bundle is not None
    assert [(f.path, f.text) for f in bundle.files] == [
        (repo.resolve() / "pkg" / "AGENTS.md", "pkg agents"),
        (repo.resolve() / ".herald.md", "root herald"),
    ]
    text = bundle.render()
    assert f"## {repo.resolve() / 'pkg' / 'AGENTS.md'}\n\npkg agents" in text
    assert f"## {repo.resolve() / '.herald.md'}\n\nroot herald" in text
    assert "root agents" not in text
    assert text.index("pkg agents") < text.index("root herald")
    assert bundle.text == text


def test_lowercase_name_accepted(repo: Path) -> None:
    (repo / "agents.md").write_text("lower")
    bundle = load_context_files(repo)
    assert bundle is not None and bundle.files[0].text == "lower"


def test_git_worktree_file_marks_the_root(tmp_path: Path) -> None:
    root = tmp_path / "wt"
    (root / "a").mkdir(parents=True)
    (root / ".git").write_text("gitdir: /elsewhere\n")
    (tmp_path / "AGENTS.md").write_text("above the root")
    (root / "AGENTS.md").write_text("in the worktree")
    assert find_repo_root(root / "a") == root
    bundle = load_context_files(root / "a")
    assert bundle is not None and bundle.files[0].text == "in the worktree"


def test_search_stops_at_the_repo_root(tmp_path: Path, repo: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("outside the repo")
    assert load_context_files(repo / "pkg") is None
    assert search_dirs(repo / "pkg" / "sub") == [repo.resolve() / "pkg" / "sub", repo.resolve() / "pkg", repo.resolve()]


def test_outside_a_repo_only_cwd_is_searched(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("parent")
    (tmp_path / "child").mkdir()
    assert load_context_files(tmp_path / "child") is None
    (tmp_path / "child" / ".herald.md").write_text("here")
    bundle = load_context_files(tmp_path / "child")
    assert bundle is not None and [f.text for f in bundle.files] == ["here"]


def test_long_file_is_truncated_with_a_note(repo: Path) -> None:
    content = "".join(f"line {i:05d}\n" for i in range(5000))
    (repo / "AGENTS.md").write_text(content)
    bundle = load_context_files(repo, max_chars=1000)
    assert bundle is not None
    f = bundle.files[0]
    assert f.truncated and len(f.text) <= 1000 and f.text.endswith("\n")
    assert content.startswith(f.text)
    assert f.size_bytes == len(content)
    rendered = bundle.render()
    assert "[Truncated: only the first" in rendered and str(f.path) in rendered.split("[Truncated")[1]


def test_file_at_the_limit_is_not_truncated(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("x" * 100)
    bundle = load_context_files(repo, max_chars=100)
    assert bundle is not None and not bundle.files[0].truncated
    assert "Truncated" not in bundle.render()


def test_empty_files_are_skipped_for_the_next_one_up(repo: Path) -> None:
    (repo / "pkg" / "AGENTS.md").write_text("  \n\n")
    (repo / "AGENTS.md").write_text("root")
    bundle = load_context_files(repo / "pkg")
    assert bundle is not None and bundle.files[0].text == "root"


def test_undecodable_bytes_do_not_fail(repo: Path) -> None:
    (repo / "AGENTS.md").write_bytes(b"ok \xff\xfe bytes")
    bundle = load_context_files(repo)
    assert bundle is not None and bundle.files[0].text.startswith("ok ")


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_leaving_the_project_is_ignored(tmp_path: Path, repo: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    (repo / "AGENTS.md").symlink_to(secret)
    assert load_context_files(repo) is None
    (repo / "docs.md").write_text("shared")
    (repo / "pkg" / "AGENTS.md").symlink_to(repo / "docs.md")
    bundle = load_context_files(repo / "pkg")
    assert bundle is not None and bundle.files[0].text == "shared"


def test_missing_cwd_and_bad_limit(tmp_path: Path) -> None:
    assert load_context_files(tmp_path / "missing") is None
    with pytest.raises(ValueError):
        load_context_files(tmp_path, max_chars=0)


def test_cwd_at_the_repo_root_searches_only_it(tmp_path: Path, repo: Path) -> None:
    (tmp_path / ".herald.md").write_text("outside")
    assert search_dirs(repo) == [repo.resolve()]
    assert load_context_files(repo) is None
