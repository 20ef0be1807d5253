"""Render a plan for its approver: text (rich tables and coloured diffs), markdown, or JSON.

Every format carries the same facts, in this order: who made the plan and what it scanned, the changes
by rule and disposition, one row per repository with the reason for each change, the blocked and
skipped reasons, the warnings, then the diffs with the pull request teams will receive. Repositories
that get byte-identical changes are shown once, as a group. The last line names the next command.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from migrator.permissions import what_it_is
from migrator.plan.markdown import code, escape, fenced
from migrator.plan.model import CampaignState, Change, Disposition, Plan, RepoPlan
from migrator.plan.planfile import LoadedPlan
from migrator.plan.planner import describe_run

STEP_SUMMARY_LIMIT = 1_000_000  # GitHub refuses a job summary over 1 MiB; leave room for the note
_DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}


@dataclass(frozen=True)
class Group:
    """Repositories whose planned changes are byte-identical: shown once."""

    repos: tuple[RepoPlan, ...]

    @property
    def sample(self) -> RepoPlan:
        return self.repos[0]


def groups(plan: Plan) -> list[Group]:
    by_key: dict[tuple[Any, ...], list[RepoPlan]] = {}
    for repo in plan.repos:
        by_key.setdefault(_change_key(repo), []).append(repo)
    return [Group(tuple(repos)) for repos in by_key.values()]


def _change_key(repo: RepoPlan) -> tuple[Any, ...]:
    changes = tuple((c.path, c.action, c.disposition, c.enabled, c.diff, c.after_with_review) for c in repo.changes)
    return (repo.enabled, repo.base_branch, changes)


def change_reasons(repo: RepoPlan, change: Change) -> list[str]:
    """Why this change, for every change, `safe` included: the findings it fixes and its own notes.

    A blocked change leads with what blocks it."""
    why = [_with_evidence(f) for f in repo.findings if change.path in _fixed_paths(f)]
    first, then = (change.reasons, why) if change.disposition is Disposition.BLOCKED else (why, change.reasons)
    return [*dict.fromkeys([*first, *then])] or [f"planned by {', '.join(change.rules)}"]


def _with_evidence(finding: Mapping[str, Any]) -> str:
    """The finding's message, then its evidence chain (`file:line: …`, where the PAT is seen, how it pushes)."""
    chain = [str(line) for line in finding.get("evidence", ())]
    return str(finding["message"]) + "".join(f"\n        {line}" for line in chain)


def _fixed_paths(finding: Mapping[str, Any]) -> set[str]:
    return {path for fix in finding.get("fixes", ()) for path in fix["paths"]}


def first_reason(repo: RepoPlan) -> str:
    """The reason a per-repository row shows: what blocks it, else the first finding its changes fix."""
    ordered = sorted(repo.changes, key=lambda c: c.disposition is not Disposition.BLOCKED)
    return next((r for c in ordered for r in change_reasons(repo, c)), "")


def evidence_line(repo: RepoPlan) -> str:
    """`run #65 of main.yml failure at job release on 2025-07-12 (URL)`."""
    if repo.evidence is None:
        return ""
    return f"{describe_run(repo.evidence)} ({repo.evidence['url']})"


def repo_disposition(repo: RepoPlan) -> str:
    kinds = sorted({c.disposition.value for c in repo.changes}, key=[d.value for d in Disposition].index)
    return "+".join(kinds) + ("" if repo.enabled else " (disabled)")


def reviewer_edits(plan: Plan) -> list[str]:
    """Reviewers' `enabled` switches; a blocked change switched on is still never applied, and says so."""
    out = []
    for repo in plan.repos:
        if repo.enabled != repo.default_enabled:
            out.append(f"{repo.name}: {'enabled' if repo.enabled else 'disabled'} by a reviewer")
        for change in repo.changes:
            if change.enabled == change.default_enabled:
                continue
            state = "enabled" if change.enabled else "disabled"
            never = " (blocked: never applied)" if change.disposition is Disposition.BLOCKED and change.enabled else ""
            out.append(f"{repo.name} {change.path}: {state} by a reviewer{never}")
    return out


def made_as(token: Mapping[str, Any]) -> str:
    if "shards" in token:
        return "; ".join(made_as(t) for t in token["shards"])
    scopes = token.get("scopes")
    return what_it_is(str(token.get("login") or "an unknown token"), scopes if isinstance(scopes, list) else None)


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
    scanned = plan.selection.get("scanned")
    counted = isinstance(scanned, int)
    clean = scanned - len(plan.repos) - len(plan.skipped) if isinstance(scanned, int) else None
    return {
        "plan_id": plan.plan_id,
        "org": plan.org,
        "api_url": plan.api_url,
        "created_at": plan.created_at,
        "made_as": made_as(plan.token),
        "repos_scanned": scanned if counted else None,
        "repos_clean": clean,
        "repos_with_changes": len(plan.repos),
        "repos_enabled": sum(1 for r in plan.repos if r.enabled),
        "repos_skipped": len(plan.skipped),
        "notices": len(plan.notices),
        "changes": {rule: {d.value: counts[d.value] for d in Disposition} for rule, counts in sorted(by_rule.items())},
        "blocked_reasons": _by_count(blocked),
        "skipped_reasons": _by_count(Counter(reason for _, reason in plan.skipped)),
        "reviewer_edits": reviewer_edits(plan),
        "warnings": [f"{repo.name}: {w}" for repo in plan.repos for w in repo.warnings],
        "usage": dict(plan.usage),
        "campaign": plan.campaign,
        "branch": plan.branch,
        "campaign_states": campaign_states(plan),
    }


def campaign_states(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """The campaign's repositories grouped by what the plan found there, in the order of `CampaignState`
    (new, up-to-date, update, obsolete, touched, merged, closed); states with no repository are left out."""
    found = [(r.name, r.found) for r in plan.repos] + [(r.name, r.found) for r in plan.retired]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for state in CampaignState:
        rows = [
            {"repo": name, "why": f.why, "pr": f.pr_number, "url": f.pr_url}
            for name, f in sorted(found)
            if f.state is state
        ]
        if rows:
            grouped[state.value] = rows
    return grouped


def campaign_lines(plan: Plan) -> list[str]:
    """`update (2): acme/a (the fix changed), acme/b (...)`: one line per state."""
    lines = []
    for state, rows in campaign_states(plan).items():
        named = [
            row["repo"] + (f" #{row['pr']}" if row["pr"] else "") + (f" ({row['why']})" if state != "new" else "")
            for row in rows
        ]
        lines.append(f"{state} ({len(rows)}): {', '.join(named)}")
    return lines


def _by_count(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def next_command(loaded: LoadedPlan) -> str:
    plan = loaded.plan
    enabled = sum(1 for r in plan.repos if r.enabled)
    if not enabled and not any(c.disposition is Disposition.BLOCKED for r in plan.repos for c in r.changes):
        return "next: nothing to apply: every repository is clean or already done (`migrator status` shows where)"
    if not enabled:
        return (
            "next: nothing is enabled; enable changes in the plan file, or re-plan once the blocked reasons are fixed"
        )
    canary = f"migrator apply {loaded.path} --limit 5" if enabled > 5 else f"migrator apply {loaded.path} --dry-run"
    return f"next: `{canary}`, then `migrator apply {loaded.path}`"


def headline(facts: Mapping[str, Any]) -> str:
    scanned = facts["repos_scanned"]
    seen = f"{scanned} scanned: {facts['repos_clean']} clean, " if scanned is not None else ""
    changed = f"{facts['repos_with_changes']} with changes ({facts['repos_enabled']} enabled)"
    counts = f"{seen}{changed}, {facts['repos_skipped']} skipped"
    return f"repositories: {counts}, {facts['notices']} notice(s)"


# --- JSON ---------------------------------------------------------------------------------------


def as_json(loaded: LoadedPlan, *, diffs: bool = True) -> dict[str, Any]:
    def change(repo: RepoPlan, c: Change) -> dict[str, Any]:
        body: dict[str, Any] = {
            "path": c.path,
            "action": c.action,
            "disposition": c.disposition.value,
            "enabled": c.enabled,
            "rules": list(c.rules),
            "reasons": change_reasons(repo, c),
        }
        return {**body, "diff": c.diff, "review_diff": c.review_diff()} if diffs else body

    return {
        "summary": summary(loaded),
        "repos": [
            {
                "name": repo.name,
                "enabled": repo.enabled,
                "disposition": repo_disposition(repo),
                "base": f"{repo.base_branch}@{repo.base_oid}",
                "branch": repo.branch,
                "title": repo.title,
                "body": repo.body,
                "warnings": list(repo.warnings),
                "evidence": dict(repo.evidence) if repo.evidence else None,
                "changes": [change(repo, c) for c in repo.changes],
            }
            for repo in loaded.plan.repos
        ],
        "groups": [[r.name for r in g.repos] for g in groups(loaded.plan) if len(g.repos) > 1],
        "skipped": [{"repo": n, "reason": w} for n, w in loaded.plan.skipped],
        "notices": [{"repo": n, "message": m} for n, m in loaded.plan.notices],
        "next": next_command(loaded),
    }


# --- text ---------------------------------------------------------------------------------------


def as_text(loaded: LoadedPlan, *, colour: bool, diffs: bool = True, width: int = 120) -> str:
    buffer = io.StringIO()
    out = Console(
        file=buffer,
        width=width,
        force_terminal=colour,
        no_color=not colour,
        highlight=False,
        emoji=False,
        soft_wrap=True,  # a diff line is never folded; only the tables fit the width
    )
    facts = summary(loaded)
    title = Text(f"plan {facts['plan_id']}", style="bold")
    title.append(f"  org {facts['org']}  created {facts['created_at']}  ({facts['api_url']})", style="")
    out.print(title)
    out.print(f"made as {facts['made_as']}", markup=False)
    out.print(headline(facts), markup=False)
    if loaded.plan.campaign is not None:
        out.print(f"campaign {loaded.plan.campaign} (branch {loaded.plan.branch}):", markup=False)
        for line in campaign_lines(loaded.plan):
            out.print(Text(f"  {line}"))
    out.print()
    out.print(_rule_table(facts["changes"]))
    out.print()
    if loaded.plan.repos:
        for row in repo_rows(loaded.plan, width):
            out.print(Text(row))
        out.print()
    for name, items in _sections(facts, loaded.plan):
        out.print(Text(f"{name}:", style="bold"))
        for item in items:
            out.print(Text(f"  {item}"))
        out.print()
    for group in groups(loaded.plan):
        _print_group(out, group, diffs=diffs)
    out.print(Text(next_command(loaded), style="bold"))
    return buffer.getvalue()


def _rule_table(changes: Mapping[str, Mapping[str, int]]) -> Table | Text:
    if not changes:
        return Text("no changes planned\n")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("changes")
    for kind in Disposition:
        table.add_column(kind.value, justify="right")
    for rule, counts in changes.items():
        table.add_row(rule, *(str(counts[d.value]) for d in Disposition))
    return table


def repo_rows(plan: Plan, width: int) -> list[str]:
    """One line per repository; the reason is cut to the width (every reason is printed below)."""
    rows = [(repo.name, str(len(repo.changes)), repo_disposition(repo), first_reason(repo)) for repo in plan.repos]
    heads = ("repository", "files", "disposition", "reason (every one is listed below)")
    sizes = [max(len(heads[i]), *(len(row[i]) for row in rows)) for i in range(3)]

    def line(cells: tuple[str, ...]) -> str:
        text = "  ".join(cell.ljust(size) for cell, size in zip(cells, sizes, strict=False)) + "  " + cells[3]
        return text if len(text) <= width else text[: width - 1] + "…"

    return [line(heads), "─" * min(width, max(len(line(r)) for r in rows)), *(line(r) for r in rows)]


def _sections(facts: Mapping[str, Any], plan: Plan) -> list[tuple[str, list[str]]]:
    sections = [
        ("blocked", [f"{n:>4}  {why}" for why, n in facts["blocked_reasons"].items()]),
        ("skipped", [f"{n:>4}  {why}" for why, n in facts["skipped_reasons"].items()]),
        ("reviewer edits", facts["reviewer_edits"]),
        ("warnings", facts["warnings"]),
        ("notices", [f"{repo}: {message}" for repo, message in plan.notices]),
    ]
    return [(name, items) for name, items in sections if items]


def _print_group(out: Console, group: Group, *, diffs: bool) -> None:
    """The group's changes with every reason; with `diffs`, the diffs and the PR body too."""
    repo = group.sample
    names = [r.name for r in group.repos]
    state = "" if repo.enabled else "  [disabled]"
    if len(names) > 1:
        heading = f"== {len(names)} repositories get this same change{state}: {', '.join(names)}"
    else:
        heading = f"== {repo.name}  {repo.base_branch}@{repo.base_oid[:10]} -> {repo.branch}{state}"
    out.print(Text(heading, style="bold"))
    for evidenced in (r for r in group.repos if r.evidence is not None):
        who = f"{evidenced.name}: " if len(names) > 1 else ""
        out.print(Text(f"   evidence: {who}{evidence_line(evidenced)}", style="cyan"))
    for warning in (w for r in group.repos for w in r.warnings):
        out.print(Text(f"   warning: {warning}", style="yellow"))
    for change in repo.changes:
        flag = "" if change.enabled else "  [not applied]"
        out.print(Text(f"-- {change.action} {change.path}  ({change.disposition.value}){flag}"))
        for reason in change_reasons(repo, change):
            out.print(Text(f"   why: {reason}"))
        if diffs:
            _print_diff(out, change.diff)
        if diffs and change.after_with_review is not None:
            out.print(Text("   with --include-review, also:"))
            _print_diff(out, change.review_diff())
    out.print(Text(f"   pull request: {repo.title}", style="bold"))
    if not diffs:
        out.print()
        return
    sample = f" (as for {repo.name})" if len(names) > 1 else ""
    out.print(Text(f"   body{sample}:", style="dim"))
    for line in repo.body.rstrip("\n").splitlines():
        out.print(Text(f"   | {line}", style="dim"))
    out.print()


def _print_diff(out: Console, diff: str) -> None:
    for line in diff.rstrip("\n").splitlines():
        out.print(Text(line, style=_DIFF_STYLES.get(line[:1], "")))


# --- markdown -----------------------------------------------------------------------------------


def as_markdown(loaded: LoadedPlan, *, diffs: bool = True, limit: int = STEP_SUMMARY_LIMIT) -> str:
    """GitHub-flavoured markdown; repository content is escaped or fenced so it cannot inject markup."""
    facts = summary(loaded)
    head = [
        f"## migrator plan {code(facts['plan_id'])}",
        "",
        f"Organisation **{escape(facts['org'])}**, made as {escape(facts['made_as'])}. {escape(headline(facts))}.",
        "",
        "| rule | safe | review | blocked |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {escape(rule)} | {c['safe']} | {c['review']} | {c['blocked']} |" for rule, c in facts["changes"].items()],
    ]
    if loaded.plan.campaign is not None:
        head += ["", f"Campaign {code(loaded.plan.campaign)}:", ""]
        head += [f"- {escape(line)}" for line in campaign_lines(loaded.plan)]
    if loaded.plan.repos:
        head += ["", "| repository | files | disposition | reason |", "| --- | ---: | --- | --- |"]
        for repo in loaded.plan.repos:
            row = [escape(repo.name), str(len(repo.changes)), repo_disposition(repo), escape(first_reason(repo))]
            head.append(f"| {' | '.join(row)} |")
    for name, items in _sections(facts, loaded.plan):
        head += ["", f"**{name.capitalize()}**", "", *[f"- {escape(item.strip())}" for item in items]]
    tail = ["", next_command(loaded).replace("next: ", "**Next:** ", 1), ""]
    blocks = [_markdown_group(group) for group in groups(loaded.plan)] if diffs else []
    return _within(head, blocks, tail, limit)


def _markdown_group(group: Group) -> list[str]:
    repo = group.sample
    names = ", ".join(escape(r.name) for r in group.repos)
    title = f"{len(group.repos)} repositories get this same change: {names}" if len(group.repos) > 1 else names
    lines = ["", f"### {title}" + ("" if repo.enabled else " (disabled)"), ""]
    lines += [f"> Evidence: {escape(r.name)}: {escape(evidence_line(r))}" for r in group.repos if r.evidence]
    lines += [f"> ⚠️ {escape(w)}" for r in group.repos for w in r.warnings]
    for change in repo.changes:
        lines += [f"- **{change.action}** {code(change.path)} ({change.disposition.value})"]
        lines += [f"  - {escape(reason)}" for reason in change_reasons(repo, change)]
        lines += ["", *fenced(change.diff, "diff"), ""]
        if change.after_with_review is not None:
            lines += ["  With `--include-review`, also:", "", *fenced(change.review_diff(), "diff"), ""]
    sample = f" (as for {escape(repo.name)})" if len(group.repos) > 1 else ""
    lines += [f"Pull request: **{escape(repo.title)}**", "", f"<details><summary>Its body{sample}</summary>", ""]
    lines += [*fenced(repo.body, "markdown"), "", "</details>", ""]
    return lines


def _within(head: Sequence[str], blocks: Iterable[list[str]], tail: Sequence[str], limit: int) -> str:
    """Head and tail always; as many diff blocks as fit under `limit` bytes, then a note of what was left out."""
    text = "\n".join(head)
    budget = limit - len("\n".join(tail).encode()) - 400
    size = len(text.encode())
    blocks = list(blocks)
    for shown, block in enumerate(blocks):
        chunk = "\n" + "\n".join(block)
        if size + len(chunk.encode()) > budget:
            text += (
                f"\n\n> **Truncated** to fit GitHub's 1 MiB job summary: {len(blocks) - shown} more group(s) of "
                "diffs are not shown; run `migrator show PLAN` for all of them."
            )
            break
        text += chunk
        size += len(chunk.encode())
    return (text + "\n" + "\n".join(tail)).rstrip() + "\n"


def short(plan: Plan) -> str:
    changes = sum(len(r.changes) for r in plan.repos)
    return f"{len(plan.repos)} repositories with {changes} change(s), {len(plan.skipped)} skipped"
