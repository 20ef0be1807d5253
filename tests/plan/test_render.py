"""`migrator show`'s renderers: every format honours --no-diff, and what `--include-review` would add is shown."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from migrator.plan.model import Disposition
from migrator.plan.planfile import read_plan, write_plan
from migrator.plan.render import as_json, as_markdown, as_text, next_command, reviewer_edits
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record
from tests.plan.test_scan import plan_of


def loaded(tmp_path: Path, tree: str = "reference"):  # type: ignore[no-untyped-def]
    reader = FakeReader([record("acme/service", golden_tree(tree))], org_wide=frozenset({"PAT_TOKEN"}))
    return read_plan(write_plan(plan_of(reader), tmp_path / "p.json"))


def test_no_diff_means_summary_only_in_every_format(tmp_path: Path) -> None:
    plan = loaded(tmp_path)
    assert "```diff" in as_markdown(plan) and "```diff" not in as_markdown(plan, diffs=False)
    assert "@@" in as_text(plan, colour=False) and "@@" not in as_text(plan, colour=False, diffs=False)
    full, summary = json.dumps(as_json(plan)), json.dumps(as_json(plan, diffs=False))
    assert '"diff"' in full and '"diff"' not in summary and '"review_diff"' not in summary
    assert as_json(plan, diffs=False)["summary"] == as_json(plan)["summary"]


def test_what_include_review_would_write_is_shown(tmp_path: Path) -> None:
    plain = loaded(tmp_path)
    (repo,) = plain.plan.repos
    main = next(c for c in repo.changes if c.path.endswith("main.yml"))
    assert main.after is not None
    widened = replace(main, after_with_review=main.after + "# and the review fix\n")
    plan = replace(plain, plan=replace(plain.plan, repos=(replace(repo, changes=(widened,)),)))
    assert widened.review_diff().endswith("+# and the review fix\n")
    assert "with --include-review, also:" in as_text(plan, colour=False)
    assert "+# and the review fix" in as_text(plan, colour=False).split("with --include-review, also:")[1]
    assert "With `--include-review`, also:" in as_markdown(plan)
    assert as_json(plan)["repos"][0]["changes"][0]["review_diff"] == widened.review_diff()
    assert "with --include-review" not in as_text(plain, colour=False)


def many(tmp_path: Path, count: int = 3):  # type: ignore[no-untyped-def]
    """`count` repositories with the same files (so the same change), one clean, one archived."""
    records = [record(f"acme/svc-{i}", golden_tree("reference")) for i in range(count)]
    records += [record("acme/clean", golden_tree("never-touched")), record("acme/old", {}, archived=True)]
    reader = FakeReader(records, org_wide=frozenset({"PAT_TOKEN"}))
    return read_plan(write_plan(plan_of(reader), tmp_path / "p.json"))


def test_show_heads_with_what_an_approver_signs_off(tmp_path: Path) -> None:
    text = as_text(many(tmp_path), colour=False, diffs=False)
    head = text.splitlines()
    assert head[1] == "made as bot (scopes: repo, workflow)"
    assert head[2] == "repositories: 5 scanned: 1 clean, 3 with changes (3 enabled), 1 skipped, 0 notice(s)"
    rows = [line for line in head if line.startswith("acme/svc-")]
    assert len(rows) == 3 and all("safe" in row and "pushes ghcr.io" in row for row in rows)  # a row each, --no-diff
    assert "why: release job `release` uses GITHUB_TOKEN" in text  # a reason for every change, safe ones too
    assert "3 repositories get this same change: acme/svc-0, acme/svc-1, acme/svc-2" in text
    assert "pull request: ci: release with the PAT and remove duplicate Docker workflows" in text
    assert text.rstrip().splitlines()[-1] == f"next: `migrator apply {tmp_path / 'p.json'} --dry-run`, then " + (
        f"`migrator apply {tmp_path / 'p.json'}`"
    )
    assert "@@" not in text


def test_show_with_diffs_prints_the_group_once_with_the_body_teams_receive(tmp_path: Path) -> None:
    text = as_text(many(tmp_path), colour=False)
    assert text.count("+++ b/.github/workflows/main.yml") == 1
    assert "body (as for acme/svc-0):" in text and "   | ### How to undo" in text


def test_markdown_carries_repositories_warnings_and_skipped_reasons(tmp_path: Path) -> None:
    markdown = as_markdown(many(tmp_path), diffs=False)
    assert "| acme/svc-0 | 4 | safe |" in markdown
    assert "**Skipped**" in markdown and "archived" in markdown
    assert "made as bot" in markdown and "5 scanned: 1 clean" in markdown
    with_bodies = as_markdown(many(tmp_path))
    assert "<details><summary>Its body (as for acme/svc-0)</summary>" in with_bodies
    assert "### How to undo" in with_bodies


def test_markdown_is_cut_to_the_job_summary_limit_with_a_note(tmp_path: Path) -> None:
    plan = many(tmp_path, count=2)
    varied = [
        replace(repo, changes=(replace(repo.changes[2], diff=repo.changes[2].diff + f"+{i}\n"),))
        for i, repo in enumerate(plan.plan.repos)
    ]
    small = replace(plan, plan=replace(plan.plan, repos=tuple(varied)))
    whole = as_markdown(small)
    cut = as_markdown(small, limit=len(whole.encode()) - 200)
    assert len(cut.encode()) < len(whole.encode()) and "**Truncated** to fit GitHub's 1 MiB job summary" in cut
    assert cut.rstrip().splitlines()[-1].startswith("**Next:** `migrator apply")  # the next command survives the cut
    assert len(as_markdown(many(tmp_path, count=40)).encode()) < 1_000_000


def test_repository_content_cannot_break_out_of_the_markdown(tmp_path: Path) -> None:
    plain = loaded(tmp_path)
    (repo,) = plain.plan.repos
    readme = next(c for c in repo.changes if c.path == "README.md")
    hostile = "+```\n+@octocat ![x](https://evil.example/p.png) <img src=x> [click](https://evil.example)\n+````\n"
    forged = replace(readme, diff=readme.diff + hostile, reasons=("see @octocat <b>now</b> [here](https://x)",))
    plan = replace(plain, plan=replace(plain.plan, repos=(replace(repo, changes=(forged,)),)))
    markdown = as_markdown(plan)
    fence = next(line for line in markdown.splitlines() if line.startswith("`````"))
    assert fence == "`````diff"  # longer than the longest backtick run inside (4)
    inside = markdown.split(fence, 1)[1].split("\n`````\n", 1)
    assert len(inside) == 2 and "@octocat ![x]" in inside[0]  # the content stays inside one fence
    assert "@octocat" not in inside[1].replace("\\@octocat", "")  # outside fences, mentions are escaped
    assert "<b>" not in markdown and "\\<b\\>" in markdown and "\\[here\\]" in markdown


def test_a_blocked_change_a_reviewer_enabled_is_shown_as_blocked(tmp_path: Path) -> None:
    plan = loaded(tmp_path)
    (repo,) = plan.plan.repos
    blocked = replace(repo.changes[0], disposition=Disposition.BLOCKED, default_enabled=False, enabled=True)
    edited = replace(plan, plan=replace(plan.plan, repos=(replace(repo, changes=(blocked,)),)))
    (edit,) = reviewer_edits(edited.plan)
    assert edit.endswith("enabled by a reviewer (blocked: never applied)")
    assert "(blocked: never applied)" in as_text(edited, colour=False)


def test_the_next_step_of_a_plan_with_nothing_left_is_not_a_blocked_hint(tmp_path: Path) -> None:
    plain = loaded(tmp_path)
    (repo,) = plain.plan.repos
    done = replace(plain, plan=replace(plain.plan, repos=(replace(repo, enabled=False, changes=()),)))
    assert next_command(done).startswith("next: nothing to apply")
    blocked = [replace(c, disposition=Disposition.BLOCKED, enabled=False) for c in repo.changes]
    stuck = replace(plain, plan=replace(plain.plan, repos=(replace(repo, enabled=False, changes=tuple(blocked)),)))
    assert "blocked reasons" in next_command(stuck)
