"""The report's pure parts: where each repository stands and since when, the burndown, Markdown's size limit."""

from __future__ import annotations

from migrator.report import html, markdown
from migrator.report.model import State, build, burndown, default_title
from migrator.verify.model import Judgement, Verdict

PLANNED = {"acme/a": "2026-11-01T10:00:00Z", "acme/b": "2026-11-01T10:00:00Z", "acme/c": "2026-11-01T10:00:00Z"}
OPENED = {"acme/a": ("https://github.com/acme/a/pull/1", "2026-11-01T11:00:00.123Z"),
          "acme/b": ("https://github.com/acme/b/pull/1", "2026-11-01T11:00:01Z")}
JUDGED = [
    Judgement("acme/a", Verdict.VERIFIED, "released v1.0.0 as release-bot", url="https://github.com/acme/a/pull/1",
              merged_at="2026-11-03T09:00:00Z", decided_at="2026-11-03T09:05:00Z"),
    Judgement("acme/b", Verdict.BROKEN, "main.yml failed <b>here</b>", ("remote: error: GH006",), "fix it",
              "https://github.com/acme/b/pull/1", "2026-11-04T09:00:00+00:00", "2026-11-04T09:02:00Z"),
]



def test_each_repository_ends_in_its_latest_state() -> None:
    rows = {r.repo: r for r in build("acme", generated_at="now", planned=PLANNED, opened=OPENED,
                                     judgements=JUDGED).rows}
    assert {name: row.state for name, row in rows.items()} == {
        "acme/a": State.VERIFIED, "acme/b": State.BROKEN, "acme/c": State.PLANNED}
    assert rows["acme/b"].since == "2026-11-04T09:02:00Z"  # one spelling of UTC


def test_the_burndown_counts_repositories_by_state_at_each_change() -> None:
    rows = build("acme", generated_at="now", planned=PLANNED, opened=OPENED, judgements=JUDGED).rows
    series = dict(burndown(rows))
    assert series["2026-11-01T10:00:00Z"][State.PLANNED] == 3
    assert series["2026-11-01T11:00:01Z"][State.PR_OPEN] == 2
    last = series["2026-11-04T09:02:00Z"]
    assert (last[State.VERIFIED], last[State.BROKEN], last[State.PLANNED]) == (1, 1, 1)


def test_html_escapes_content_and_has_no_script() -> None:
    page = html.render(build("acme", generated_at="now", planned=PLANNED, opened=OPENED, judgements=JUDGED))
    assert "<b>here</b>" not in page and "&lt;b&gt;here&lt;/b&gt;" in page
    assert "<script" not in page and "remote: error: GH006" in page


def test_markdown_is_cut_under_the_limit_with_a_note_and_no_open_fence() -> None:
    many = {f"acme/r{i:05d}": "2026-11-01T10:00:00Z" for i in range(3000)}
    report = build("acme", generated_at="now", planned=many, opened={}, judgements=[])
    text = markdown.render(report, limit=20_000)
    assert len(text.encode()) <= 20_000 + 200
    assert "Cut to fit GitHub's 1 MiB limit" in text
    assert text.count("```") % 2 == 0
    assert "\\<b\\>" in markdown.render(build("acme", generated_at="now", planned=PLANNED, opened=OPENED,
                                              judgements=JUDGED))


def test_the_default_title_names_the_campaign_and_for_an_old_plan_its_id() -> None:
    assert default_title("acme", "acme-20261202T0600", "acme-release") == "migrator campaign acme-release"
    assert default_title("acme", "acme-20261202T0600", "q4-tokens") == "migrator campaign q4-tokens (acme)"
    assert default_title("acme", "acme-20261202T0600", None) == "migrator campaign acme: acme-20261202T0600"
