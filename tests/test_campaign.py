"""The campaign's pure parts: names, trailers, the classifier, and the record of applied plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.campaign import (
    Digests,
    campaign_record,
    classify,
    is_campaign_commit,
    record_plan,
    trailer,
    trailers,
)
from migrator.github.types import CampaignCommit, CampaignPull, CampaignRead
from migrator.plan.model import CampaignState, Change, Disposition, marks
from migrator.refnames import campaign_problem, default_campaign

BASE, OLD_BASE = "b" * 40, "a" * 40
CAMPAIGN = "acme-release"


def change(path: str = ".github/workflows/release.yml", *, before: str = "1" * 40, after: str = "fixed\n") -> Change:
    return Change(
        path=path,
        action="modify",
        blob_before=before,
        before="broken\n",
        after=after,
        diff="",
        disposition=Disposition.SAFE,
        reasons=(),
        rules=("token-mismatch",),
    )


def ours(planned: list[Change], *, parent: str = BASE, campaign: str = CAMPAIGN) -> CampaignCommit:
    message = f"ci: fix\n\n{trailers(campaign, 'acme-run-1', Digests.of(planned))}"
    return CampaignCommit(oid="c" * 40, parents=(parent,), message=message)


def pull(state: str = "open", mergeable: str = "MERGEABLE") -> CampaignPull:
    return CampaignPull(
        number=7, url="https://x/7", state=state, head_oid="c" * 40, base_ref="main", mergeable=mergeable
    )


def state_of(read: CampaignRead, planned: list[Change] | None) -> CampaignState | None:
    found = classify(read, campaign=CAMPAIGN, base_oid=BASE, planned=planned)
    return None if found is None else found.state


def test_the_default_campaign_is_the_org_and_the_sorted_rules() -> None:
    assert default_campaign("Acme", ["token-mismatch", "redundant-docker"]) == "acme-redundant-docker-token-mismatch"
    assert default_campaign("acme", ["redundant-docker", "token-mismatch"]) == default_campaign(
        "ACME", ["token-mismatch", "redundant-docker"]
    )
    long = default_campaign("acme", [f"rule-{i:03}" for i in range(40)])
    assert len(long) <= 100 and campaign_problem(long) is None


@pytest.mark.parametrize("name", ["", "a..b", "x.lock", "a b", "-x", "evil\n", "a/b"])
def test_bad_campaign_names_are_refused(name: str) -> None:
    assert campaign_problem(name) is not None


def test_every_state_of_the_table() -> None:
    planned = [change()]
    assert state_of(CampaignRead(), planned) is CampaignState.NEW
    assert state_of(CampaignRead(), None) is None  # nothing here, nothing planned: not the campaign's
    assert state_of(CampaignRead(ours(planned), (pull(),)), planned) is CampaignState.UP_TO_DATE
    moved_file = [change(before="2" * 40, after="fixed again\n")]
    assert state_of(CampaignRead(ours(planned), (pull(),)), moved_file) is CampaignState.UPDATE
    new_fix = [change(after="fixed better\n")]
    assert state_of(CampaignRead(ours(planned), (pull(),)), new_fix) is CampaignState.UPDATE
    assert state_of(CampaignRead(ours(planned), (pull(mergeable="CONFLICTING"),)), planned) is CampaignState.UPDATE
    assert state_of(CampaignRead(ours(planned), (pull(),)), None) is CampaignState.OBSOLETE
    assert state_of(CampaignRead(ours(planned), (pull(),)), []) is CampaignState.OBSOLETE
    theirs = CampaignCommit(oid="d" * 40, parents=("c" * 40,), message="my fix")
    assert state_of(CampaignRead(theirs, (pull(),)), planned) is CampaignState.TOUCHED
    assert state_of(CampaignRead(theirs, (pull(),)), None) is CampaignState.TOUCHED  # never closed over their work
    assert state_of(CampaignRead(ours(planned), (pull("merged"),)), None) is CampaignState.MERGED
    assert state_of(CampaignRead(None, (pull("closed"),)), planned) is CampaignState.CLOSED


def test_an_open_pr_stands_for_the_campaign_over_older_closed_ones() -> None:
    planned = [change()]
    read = CampaignRead(ours(planned), (pull("closed"), pull("open")))
    assert state_of(read, planned) is CampaignState.UP_TO_DATE


def test_a_moved_base_elsewhere_is_up_to_date_and_says_so() -> None:
    planned = [change()]
    found = classify(
        CampaignRead(ours(planned, parent=OLD_BASE), (pull(),)), campaign=CAMPAIGN, base_oid=BASE, planned=planned
    )
    assert found is not None and found.state is CampaignState.UP_TO_DATE and found.base_moved


def test_another_campaigns_commit_is_not_ours() -> None:
    planned = [change()]
    assert state_of(CampaignRead(ours(planned, campaign="other"), (pull(),)), planned) is CampaignState.TOUCHED
    assert not is_campaign_commit(ours(planned).message, (BASE, OLD_BASE), CAMPAIGN)  # a merge commit is not ours


def test_a_plan_of_other_rules_never_calls_the_fix_obsolete_nor_rewrites_it() -> None:
    """Planning one rule under a campaign whose commit holds two rules' fix must leave that commit alone: otherwise
    the other rule's part would be closed as obsolete, or dropped by an update."""
    both = ("redundant-docker", "token-mismatch")
    planned = [change()]
    message = f"ci: fix\n\n{trailers(CAMPAIGN, 'acme-run-1', Digests.of(planned), both)}"
    read = CampaignRead(CampaignCommit(oid="c" * 40, parents=(BASE,), message=message), (pull(),))
    for wanted in (None, [change(after="other\n")]):
        found = classify(read, campaign=CAMPAIGN, base_oid=BASE, planned=wanted, rules=("token-mismatch",))
        assert found is not None and found.state is CampaignState.TOUCHED
        assert "rules redundant-docker,token-mismatch" in found.why
    same = classify(read, campaign=CAMPAIGN, base_oid=BASE, planned=planned, rules=both)
    assert same is not None and same.state is CampaignState.UP_TO_DATE
    assert trailer(message, "Migrator-Rules") == "redundant-docker,token-mismatch"


def test_trailers_and_markers() -> None:
    message = "x\n\n" + trailers(CAMPAIGN, "p1", Digests.of([change()]))
    assert trailer(message, "Migrator-Campaign") == CAMPAIGN and trailer(message, "Migrator-Plan") == "p1"
    body = "text\n<!-- migrator:campaign=acme-release plan=p1 repo=acme/api -->\n"
    assert marks(body, CAMPAIGN, "acme/api") and not marks(body, CAMPAIGN, "acme/web")
    assert not marks(body, "acme", "acme/api")


def test_applied_plans_are_recorded_newest_first(tmp_path: Path) -> None:
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    record_plan(CAMPAIGN, org="acme", plan=first, plan_id="p1")
    record_plan(CAMPAIGN, org="acme", plan=second, plan_id="p2")
    again = record_plan(CAMPAIGN, org="acme", plan=first, plan_id="p1")  # a resumed apply of the first
    assert [p.plan_id for p in again.plans] == ["p1", "p2"]
    record = campaign_record(CAMPAIGN)
    assert record is not None and record.newest.plan == first.resolve()
    assert campaign_record("nothing-here") is None


def test_campaign_flags_are_refused_in_one_line_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from migrator.cli import main

    assert main(["rollback", "--campaign", "nothing-applied", "--api-url", "http://127.0.0.1:9"]) == 2
    assert "no applied plan of campaign nothing-applied" in capsys.readouterr().err
    plan = tmp_path / "plan.json"
    plan.write_text("{}")
    assert main(["apply", str(plan), "--campaign", "x", "--api-url", "http://127.0.0.1:9"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["plan", "--org", "acme", "--campaign", "a b", "--api-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "cannot name a branch" in err and len(err.strip().splitlines()) == 1
