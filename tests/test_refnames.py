"""The shared checks of plan ids, branch and repository names: git's rules, always full matches."""

from __future__ import annotations

import pytest

from migrator.refnames import plan_id_problem, ref_problem, repo_name_problem


@pytest.mark.parametrize("name", ["main", "release/1.x", "migrator/acme-2026-12-02T01.02", "feature_x", "v1.2"])
def test_branch_names_git_accepts(name: str) -> None:
    assert ref_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["", "main\n", "a..b", "x.lock", "a/x.lock/b", ".hidden", "a/.b", "a/", "/a", "a//b", "a.", "@", "a@{b",
     "a b", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\b", "a\x7f", "-x", "x" * 256],
)
def test_branch_names_git_refuses(name: str) -> None:
    assert ref_problem(name) is not None


@pytest.mark.parametrize("plan_id", ["evil\n", "a..b", "x.lock", "x.", ".x", "a/b", "a b", "", "x" * 101])
def test_plan_ids_that_cannot_name_a_branch(plan_id: str) -> None:
    assert plan_id_problem(plan_id) is not None


def test_good_plan_ids_and_repository_names() -> None:
    assert plan_id_problem("acme-2026-12-02T01.02.03Z") is None
    assert repo_name_problem("acme/app.js") is None
    for bad in ("acme", "acme/", "acme/a/b", "acme/app\n", "acme/..", "./x"):
        assert repo_name_problem(bad) is not None, bad
