"""Golden before/after pairs: every finding, its safety, and the exact bytes of every fixed file.

Regenerate after an intended change with `MIGRATOR_UPDATE_GOLDEN=1 pytest tests/rules/test_golden.py`,
then read the diff of tests/rules/golden before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from migrator.analysis.context import RuleSettings
from migrator.checker import Report, apply_fixes, check_snapshot
from migrator.local import load_checkout
from migrator.model import RepoSnapshot
from migrator.rules import REGISTRY
from migrator.rules.base import Rule
from tests.golden import read_tree

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "before").is_dir())
UPDATE = os.environ.get("MIGRATOR_UPDATE_GOLDEN") == "1"


def _config(case: Path) -> dict[str, Any]:
    return json.loads((case / "settings.json").read_text()) if (case / "settings.json").exists() else {}


def _rules(case: Path) -> list[Rule] | None:
    """`rules` in settings.json runs only those (opt-in ones included); otherwise the default rules run."""
    named = _config(case).get("rules")
    return None if named is None else [REGISTRY[rule_id] for rule_id in named]


def _snapshot(root: Path, case: Path) -> tuple[RepoSnapshot, RuleSettings]:
    config = _config(case)
    settings = RuleSettings(
        pat_secret=config.get("pat_secret"),
        app_client_id=config.get("app_client_id"),
        app_key_secret=config.get("app_key_secret"),
    )
    snapshot = load_checkout(root, default_branch=config.get("default_branch", "main"))
    return replace(snapshot, name=config.get("name", "acme/" + case.name)), settings


def _render(report: Report) -> str:
    lines = []
    for f in report.findings:
        safety = ",".join(fix.safety.value for fix in f.fixes) or "-"
        lines.append(f"{f.location} {f.rule} {f.severity.value} {safety}")
    return "\n".join(lines) + "\n"


def _fixed(case: Path, tmp_path: Path) -> tuple[Report, Path]:
    work = tmp_path / "work"
    shutil.copytree(case / "before", work)
    snapshot, settings = _snapshot(work, case)
    report = check_snapshot(snapshot, settings, rules=_rules(case))
    texts = {path: f.content.decode("utf-8", "surrogateescape") for path, f in snapshot.files.items()}
    changes, collided = apply_fixes(texts, report.fixes(include_review=True))
    assert not collided
    for change in changes:
        target = work / change.path
        if change.after is None:
            target.unlink()
        else:
            target.write_bytes(change.after.encode("utf-8", "surrogateescape"))
    return report, work


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_findings_and_fixed_bytes_match_golden(case: Path, tmp_path: Path) -> None:
    report, work = _fixed(case, tmp_path)
    if UPDATE:
        (case / "findings.txt").write_text(_render(report))
        shutil.rmtree(case / "after", ignore_errors=True)
        shutil.copytree(work, case / "after")
    assert _render(report) == (case / "findings.txt").read_text()
    assert read_tree(work) == read_tree(case / "after")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_fixing_twice_changes_nothing(case: Path, tmp_path: Path) -> None:
    _, work = _fixed(case, tmp_path)
    snapshot, settings = _snapshot(work, case)
    report = check_snapshot(snapshot, settings, rules=_rules(case))
    texts = {path: f.content.decode("utf-8", "surrogateescape") for path, f in snapshot.files.items()}
    changes, _ = apply_fixes(texts, report.fixes(include_review=True))
    assert changes == []
