"""Object ids are git's own, the seed loads lazily, and the generator is deterministic."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator.sandbox.generate import generate
from migrator.sandbox.git import FileEntry, ObjectDB, Signature, three_way_merge
from migrator.sandbox.seed import load_seed
from migrator.sandbox.store import HEADS, Store

GIT = shutil.which("git")


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_seed_commit_is_the_commit_git_makes(seed_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "app"
    shutil.copytree(seed_dir / "acme" / "app", work)
    env = {**os.environ, "GIT_AUTHOR_NAME": "migrator-sandbox", "GIT_AUTHOR_EMAIL": "sandbox@example.invalid",
           "GIT_COMMITTER_NAME": "migrator-sandbox", "GIT_COMMITTER_EMAIL": "sandbox@example.invalid",
           "GIT_AUTHOR_DATE": "1704067200 +0000", "GIT_COMMITTER_DATE": "1704067200 +0000",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> str:
        return subprocess.run([GIT or "git", *args], cwd=work, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "Initial commit")
    store = load_seed(seed_dir, Store())
    repo = store.repo("acme", "app")
    assert repo is not None
    assert repo.refs[HEADS + "main"] == git("rev-parse", "HEAD")
    assert repo.commit(repo.refs[HEADS + "main"]).tree == git("rev-parse", "HEAD^{tree}")


def test_commit_ids_chain_through_parents() -> None:
    db = ObjectDB()
    who = Signature("a", "a@example.invalid", 0)
    tree = db.build_tree({"a.txt": FileEntry(db.put_blob(b"a"))})
    first = db.put_commit(tree=tree, parents=(), author=who, committer=who, message="one")
    second = db.put_commit(tree=tree, parents=(first.sha,), author=who, committer=who, message="two")
    assert db.ancestors(second.sha) == [second.sha, first.sha]
    assert db.merge_base(second.sha, first.sha) == first.sha
    assert second.sha != first.sha


def test_three_way_merge_detects_conflicts() -> None:
    base, ours, theirs = FileEntry("1" * 40), FileEntry("2" * 40), FileEntry("3" * 40)
    assert three_way_merge({"f": base}, {"f": ours}, {"f": base}) == {"f": ours}
    assert three_way_merge({"f": base}, {"f": base}, {}) == {}
    assert three_way_merge({"f": base}, {"f": ours}, {"f": theirs}) is None


def test_repositories_materialise_on_first_use(seed_dir: Path) -> None:
    store = load_seed(seed_dir, Store())
    lib = store.orgs["acme"].repos["lib"]
    assert lib.loader is not None and not lib.refs
    assert store.repo("acme", "lib") is lib
    assert lib.loader is None and lib.branches() == ["main"]


def test_generator_is_deterministic_and_realistic(tmp_path: Path) -> None:
    one, two = generate(tmp_path / "one", repos=60, seed=7), generate(tmp_path / "two", repos=60, seed=7)
    files_one = sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    files_two = sorted(p.relative_to(two).as_posix() for p in two.rglob("*") if p.is_file())
    assert files_one == files_two
    texts = [p.read_text() for p in one.rglob("*.yml")]
    assert any("secrets.GITHUB_TOKEN" in t and "RELEASE_PAT" in t for t in texts)
    assert any(p.name in ("docker.yml", "docker-build.yml") for p in one.rglob("*.yml"))
    store = load_seed(one, Store())
    assert len(store.orgs["bench-org"].repos) == 60
