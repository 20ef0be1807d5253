"""Render a plan for people: a summary table and diffs as text (optionally coloured), markdown, or JSON."""

from __future__ import annotations

from collections import Counter
from typing import Any

from migrator.plan.model import Disposition, Plan
from migrator.plan.planfile import LoadedPlan

_COLOURS = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def summary(loaded: LoadedPlan) -> dict[str, Any]:
    plan = loaded.plan
    by_rule: dict[str, Counter[str]] = {}
    blocked: Counter[str] = Counter()
    for repo in plan.repos:
        for change in repo.changes:
            for rule in change.rules:
                by_rule.setdefault(rule, Counter())[change.disposition.value] += 1
            if change.disposition is Disposition.BLOCKED:
                blocked.update(change.reasons)
    return {
        "plan_id": plan.plan_id,
        "org": plan.org,
        "api_url": plan.api_url,
        "created_at": plan.created_at,
        "repos_with_changes": len(plan.repos),
        "repos_enabled": sum(1 for r in plan.repos if r.enabled),
        "repos_skipped": len(plan.skipped),
        "notices": len(plan.notices),
        "changes": {rule: {d.value: counts[d.value] for d in Disposition} for rule, counts in sorted(by_rule.items())},
        "blocked_reasons": _by_count(blocked),
        "skipped_reasons": _by_count(Counter(reason for _, reason in plan.skipped)),
        "reviewer_edits": list(loaded.edits),
        "warnings": [f"{repo.name}: {w}" for repo in plan.repos for w in repo.warnings],
        "usage": dict(plan.usage),
    }


def _by_count(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def as_json(loaded: LoadedPlan, *, diffs: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": summary(loaded),
        "repos": [
            {
                "name": repo.name,
                "enabled": repo.enabled,
                "base": f"{repo.base_branch}@{repo.base_oid}",
                "branch": repo.branch,
                "warnings": list(repo.warnings),
                "changes": [
                    {
                        "path": c.path,
                        "action": c.action,
                        "disposition": c.disposition.value,
                        "enabled": c.enabled,
                        "rules": list(c.rules),
                        "reasons": list(c.reasons),
                        "diff": c.diff,
                        "review_diff": c.review_diff(),
                    }
                    for c in repo.changes
                ],
            }
            for repo in loaded.plan.repos
        ],
        "skipped": [{"repo": n, "reason": w} for n, w in loaded.plan.skipped],
        "notices": [{"repo": n, "message": m} for n, m in loaded.plan.notices],
    }
    if not diffs:
        for repo in body["repos"]:
            for change in repo["changes"]:
                del change["diff"], change["review_diff"]
    return body


def as_text(loaded: LoadedPlan, *, colour: bool, diffs: bool = True) -> str:
    facts = summary(loaded)
    bold = (lambda s: f"{_BOLD}{s}{_RESET}") if colour else (lambda s: s)
    lines = [
        bold(f"plan {facts['plan_id']}") + f"  org {facts['org']}  created {facts['created_at']}  ({facts['api_url']})",
        f"repositories: {facts['repos_with_changes']} with changes ({facts['repos_enabled']} enabled), "
        f"{facts['repos_skipped']} skipped, {facts['notices']} notice(s)",
        "",
        *_table(facts["changes"]),
    ]
    lines += _section("blocked", [f"{n:>4}  {why}" for why, n in facts["blocked_reasons"].items()])
    lines += _section("skipped", [f"{n:>4}  {why}" for why, n in facts["skipped_reasons"].items()])
    lines += _section("reviewer edits", facts["reviewer_edits"])
    lines += _section("warnings", facts["warnings"])
    if diffs:
        for repo in loaded.plan.repos:
            state = "" if repo.enabled else "  [disabled]"
            lines += ["", bold(f"== {repo.name}  {repo.base_branch}@{repo.base_oid[:10]} -> {repo.branch}{state}")]
            lines += [f"   warning: {w}" for w in repo.warnings]
            for change in repo.changes:
                flag = "" if change.enabled else "  [not applied]"
                lines.append(f"-- {change.action} {change.path}  ({change.disposition.value}){flag}")
                lines += [f"   {reason}" for reason in change.reasons]
                lines += _diff_lines(change.diff, colour)
                if change.after_with_review is not None:
                    lines += ["   with --include-review, also:", *_diff_lines(change.review_diff(), colour)]
    lines += _section("notices", [f"{repo}: {message}" for repo, message in loaded.plan.notices])
    return "\n".join(lines) + "\n"


def as_markdown(loaded: LoadedPlan, *, diffs: bool = True) -> str:
    facts = summary(loaded)
    lines = [
        f"## migrator plan `{facts['plan_id']}`",
        "",
        f"Organisation **{facts['org']}**: {facts['repos_with_changes']} repositories with changes "
        f"({facts['repos_enabled']} enabled), {facts['repos_skipped']} skipped.",
        "",
        "| rule | safe | review | blocked |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {rule} | {c['safe']} | {c['review']} | {c['blocked']} |" for rule, c in facts["changes"].items()],
    ]
    if facts["blocked_reasons"]:
        lines += ["", "**Blocked**", "", *[f"- {n} × {why}" for why, n in facts["blocked_reasons"].items()]]
    if facts["reviewer_edits"]:
        lines += ["", "**Reviewer edits**", "", *[f"- {edit}" for edit in facts["reviewer_edits"]]]
    for repo in loaded.plan.repos if diffs else ():
        lines += ["", f"### {repo.name}" + ("" if repo.enabled else " (disabled)"), ""]
        lines += [f"> ⚠️ {w}" for w in repo.warnings]
        for change in repo.changes:
            lines += [f"- **{change.action}** `{change.path}` ({change.disposition.value})"]
            lines += [f"  - {reason}" for reason in change.reasons]
            lines += ["", "```diff", change.diff.rstrip("\n"), "```", ""]
            if change.after_with_review is not None:
                review = change.review_diff().rstrip("\n")
                lines += ["  With `--include-review`, also:", "", "```diff", review, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _table(changes: dict[str, dict[str, int]]) -> list[str]:
    rows = [f"{'changes':<20} {'safe':>6} {'review':>7} {'blocked':>8}"]
    rows += [f"{rule:<20} {c['safe']:>6} {c['review']:>7} {c['blocked']:>8}" for rule, c in changes.items()]
    return rows if changes else ["no changes planned"]


def _section(title: str, items: list[str]) -> list[str]:
    return ["", f"{title}:", *[f"  {item}" for item in items]] if items else []


def _diff_lines(diff: str, colour: bool) -> list[str]:
    lines = diff.rstrip("\n").splitlines()
    if not colour:
        return lines
    return [f"{_COLOURS[line[0]]}{line}{_RESET}" if line[:1] in _COLOURS else line for line in lines]


def short(plan: Plan) -> str:
    changes = sum(len(r.changes) for r in plan.repos)
    return f"{len(plan.repos)} repositories with {changes} change(s), {len(plan.skipped)} skipped"
