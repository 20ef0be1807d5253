"""The release-app-token fix adds no zizmor (offline) or actionlint finding to the files it changes.

Each linter runs when installed (the dev and lint extras install them) and is skipped, saying why, when not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator import lint
from migrator.checker import apply_fixes, check_snapshot
from tests.rules.test_golden import CASES, _rules, _snapshot

APP_CASES = [case for case in CASES if case.name.startswith("app-")]


def _proposed(case: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    work = tmp_path / "work"
    shutil.copytree(case / "before", work)
    snapshot, settings = _snapshot(work, case)
    report = check_snapshot(snapshot, settings, rules=_rules(case))
    texts = {path: f.content.decode("utf-8", "surrogateescape") for path, f in snapshot.files.items()}
    changes, _ = apply_fixes(texts, report.fixes(include_review=True))
    return [(c.path, texts[c.path], c.after) for c in changes if c.after is not None]


@pytest.mark.parametrize("tool", lint.TOOLS)
@pytest.mark.parametrize("case", APP_CASES, ids=lambda p: p.name)
def test_the_fix_adds_no_linter_finding(case: Path, tool: str, tmp_path: Path) -> None:
    where = lint.find_tool(tool)
    if where is None:
        pytest.skip(f"{tool} is not installed (pip install -e '.[dev,lint]')")
    for path, before, after in _proposed(case, tmp_path):
        tools = {tool: where}
        assert lint.new_findings(lint.lint(path, before, tools), lint.lint(path, after, tools)) == []


def test_zizmor_sees_an_unpinned_insertion_so_the_comparison_is_not_vacuous() -> None:
    where = lint.find_tool("zizmor")
    if where is None:
        pytest.skip("zizmor is not installed (pip install -e '.[dev]')")
    before = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
    after = before.replace(
        "      - run: echo\n", "      - uses: actions/create-github-app-token@v2\n      - run: echo\n"
    )
    added = lint.new_findings(
        lint.lint("ci.yml", before, {"zizmor": where}), lint.lint("ci.yml", after, {"zizmor": where})
    )
    assert "unpinned-uses" in {f.rule for f in added}
