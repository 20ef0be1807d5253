"""`migrator show`'s renderers: every format honours --no-diff, and what `--include-review` would add is shown."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from migrator.plan.planfile import read_plan, write_plan
from migrator.plan.render import as_json, as_markdown, as_text
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
