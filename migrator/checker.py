"""Run the rules over a snapshot, and turn chosen fixes into new file contents.

This is the pure core shared by `check` (one checkout) and `plan` (a whole org).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from migrator.analysis.context import RepoContext, RuleSettings
from migrator.model import WORKFLOWS_DIR, DeleteFile, Finding, Fix, Location, RepoSnapshot, Safety, Severity, TextEdit
from migrator.rules import REGISTRY
from migrator.rules.base import Rule
from migrator.workflow.edit import EditConflict, apply_text_edits, unified_diff

UNREADABLE_RULE = "unreadable-workflow"


@dataclass(frozen=True)
class FileChange:
    path: str
    before: str | None  # None: the file is new
    after: str | None  # None: the file is deleted

    @property
    def action(self) -> str:
        return "delete" if self.after is None else ("create" if self.before is None else "modify")

    def diff(self) -> str:
        return unified_diff(self.path, self.before, self.after)


@dataclass(frozen=True)
class Report:
    repo: str
    findings: tuple[Finding, ...]

    def problems(self) -> list[Finding]:
        """Findings that make `check` fail: everything but notes."""
        return [f for f in self.findings if f.severity is not Severity.NOTE]

    def fixes(self, *, include_review: bool = False) -> list[Fix]:
        wanted = {Safety.SAFE, Safety.REVIEW} if include_review else {Safety.SAFE}
        return [fix for f in self.findings for fix in f.fixes if fix.safety in wanted]


def check_snapshot(
    snapshot: RepoSnapshot,
    settings: RuleSettings | None = None,
    *,
    rules: Iterable[Rule] | None = None,
) -> Report:
    ctx = RepoContext(snapshot, settings or RuleSettings())
    findings: list[Finding] = []
    for path in ctx.workflow_paths():
        ctx.text(path)  # decoding every workflow is cheap and reports binary/huge/invalid files
    named = ctx.settings.rules
    chosen = [REGISTRY[r] for r in named if r in REGISTRY] if named else [r for r in REGISTRY.values() if not r.opt_in]
    for rule in chosen if rules is None else rules:
        findings.extend(rule.check(ctx))
    findings.extend(_unreadable(ctx.problems, snapshot.skipped))
    return Report(snapshot.name, tuple(sorted(findings, key=Finding.sort_key)))


def _unreadable(problems: Mapping[str, str], skipped: Mapping[str, str]) -> list[Finding]:
    """Workflows that could not be analysed. Companion files (README...) are the rules' business."""
    merged = {p: why for p, why in {**skipped, **problems}.items() if p.startswith(WORKFLOWS_DIR)}
    return [
        Finding(UNREADABLE_RULE, Severity.WARNING, Location(path, 1, 1), f"not analysed: {why}")
        for path, why in sorted(merged.items())
    ]


def apply_fixes(texts: Mapping[str, str], fixes: Iterable[Fix]) -> tuple[list[FileChange], list[Fix]]:
    """New contents for every file the fixes touch. Fixes that collide with earlier ones are returned apart."""
    edits: dict[str, list[TextEdit]] = defaultdict(list)
    deleted: set[str] = set()
    skipped: list[Fix] = []
    for fix in fixes:
        if not _fits(fix, texts, edits, deleted):
            skipped.append(fix)
            continue
        for edit in fix.edits:
            if isinstance(edit, DeleteFile):
                deleted.add(edit.path)
            else:
                edits[edit.path].append(edit)
    changes = [FileChange(path, texts[path], None) for path in sorted(deleted)]
    for path in sorted(set(edits) - deleted):
        after = apply_text_edits(texts[path], edits[path])
        if after != texts[path]:
            changes.append(FileChange(path, texts[path], after))
    return sorted(changes, key=lambda c: c.path), skipped


def _fits(fix: Fix, texts: Mapping[str, str], edits: Mapping[str, list[TextEdit]], deleted: set[str]) -> bool:
    """A fix fits when its files still exist and its edits, together with each other and with the edits
    already taken, apply without overlapping."""
    mine: dict[str, list[TextEdit]] = defaultdict(list)
    for edit in fix.edits:
        if edit.path not in texts or edit.path in deleted:
            return False
        if isinstance(edit, TextEdit):
            mine[edit.path].append(edit)
    try:
        for path, added in mine.items():
            apply_text_edits(texts[path], [*edits.get(path, []), *added])
    except EditConflict:
        return False
    return True
