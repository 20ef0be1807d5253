"""The preflight verdict: classic protection and rulesets stack, evaluate mode never blocks, bypass lists are
read for the release identity (a PAT whose owner's role is usually unknown, an App, GITHUB_TOKEN); and the
planner turns it into the token fix's disposition."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.github.types import BypassEntry, Protection, RepoRecord, Ruleset, RulesetRule
from migrator.plan.model import Disposition
from migrator.plan.preflight import Identity, Outcome, preflight
from migrator.sandbox.testing import running_sandbox, write_seed
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record
from tests.plan.test_scan import org_secrets, plan_of

PAT = Identity(kind="pat")
TAGS = Ruleset(name="release tags", id=7, target="tag", enforcement="active", source="acme/service",
               include=("refs/tags/v*",), rules=(RulesetRule(type="creation"), RulesetRule(type="deletion")))
MAIN = Ruleset(name="main", id=8, target="branch", enforcement="active", source="acme", source_type="Organization",
               include=("~DEFAULT_BRANCH",), rules=(RulesetRule(type="pull_request"),))


def _record(*rulesets: Ruleset, protection: Protection | None = None) -> RepoRecord:
    base = RepoRecord(full_name="acme/service", default_branch="main", head_oid="a" * 40)
    return replace(base, rulesets=rulesets, protection=protection or Protection())


def test_nothing_in_the_way_is_ok_and_unreadable_rulesets_are_unknown() -> None:
    assert preflight(_record(), PAT).outcome is Outcome.OK
    assert preflight(replace(_record(), rulesets_readable=False), PAT).outcome is Outcome.UNKNOWN


def test_a_tag_ruleset_without_a_bypass_a_pat_can_hold_blocks_and_names_the_ruleset() -> None:
    app_only = replace(TAGS, bypass=(BypassEntry(kind="Integration", app_id=77, app_slug="release-app"),))
    for ruleset in (TAGS, app_only):
        verdict = preflight(_record(ruleset), PAT)
        assert verdict.outcome is Outcome.BLOCKED
        (obstacle,) = verdict.obstacles
        assert obstacle.target == "the release tag" and obstacle.ruleset == "release tags"
        assert "ruleset 'release tags' (acme/service) restricts creating tags" in obstacle.why
        assert "add a bypass entry" in obstacle.remedy and "release-app-token" in obstacle.remedy
    assert preflight(_record(app_only), Identity(kind="app", app_id=77)).outcome is Outcome.OK
    assert preflight(_record(app_only), Identity(kind="github-token")).outcome is Outcome.BLOCKED


def test_a_bypass_that_depends_on_the_pats_role_is_conditional_until_the_role_is_known() -> None:
    admins = replace(TAGS, bypass=(BypassEntry(kind="RepositoryRole", role="admin"),))
    verdict = preflight(_record(admins), PAT)
    assert verdict.outcome is Outcome.CONDITIONAL
    assert "its owner's role is unknown" in verdict.reason
    assert preflight(_record(admins), replace(PAT, role="admin")).outcome is Outcome.OK
    assert preflight(_record(admins), replace(PAT, role="write")).outcome is Outcome.BLOCKED
    org_admins = replace(TAGS, bypass=(BypassEntry(kind="OrganizationAdmin"),))
    assert preflight(_record(org_admins), PAT).outcome is Outcome.CONDITIONAL
    pull_only = replace(TAGS, bypass=(BypassEntry(kind="RepositoryRole", role="write", mode="pull_request"),))
    assert preflight(_record(pull_only), replace(PAT, role="admin")).outcome is Outcome.BLOCKED


def test_rules_stack_the_most_restrictive_wins_and_evaluate_mode_does_not_block() -> None:
    admins = replace(TAGS, bypass=(BypassEntry(kind="RepositoryRole", role="admin"),))
    verdict = preflight(_record(admins, MAIN), PAT)
    assert verdict.outcome is Outcome.BLOCKED  # the org's pull_request rule has no bypass at all
    assert [o.ruleset for o in verdict.obstacles] == ["release tags", "main"]
    assert verdict.obstacles[1].target == "the release commit on main"
    evaluate = replace(MAIN, enforcement="evaluate")
    assert preflight(_record(evaluate), PAT).outcome is Outcome.OK
    assert preflight(_record(replace(MAIN, enforcement="disabled")), PAT).outcome is Outcome.OK
    other_branch = replace(MAIN, include=("refs/heads/release/*",))
    assert preflight(_record(other_branch), PAT).outcome is Outcome.OK
    non_ff = replace(MAIN, rules=(RulesetRule(type="non_fast_forward"),))  # a release commit fast-forwards
    assert preflight(_record(non_ff), PAT).outcome is Outcome.OK
    checks = replace(TAGS, rules=(RulesetRule(type="required_status_checks", required_checks=("ci",),
                                              checks_skip_creation=True),))
    assert preflight(_record(checks), PAT).outcome is Outcome.OK


def test_classic_protection_enforced_for_admins_is_conditional_and_unbypassable_for_github_token() -> None:
    enforced = Protection(enforce_admins=True, required_checks=("ci",))
    verdict = preflight(_record(protection=enforced), PAT)
    assert verdict.outcome is Outcome.CONDITIONAL and "enforce_admins" in verdict.remedy
    plain = Protection(required_checks=("ci",))
    assert preflight(_record(protection=plain), PAT).outcome is Outcome.OK  # the release PAT is taken as an admin's
    assert preflight(_record(protection=plain), Identity(kind="github-token")).outcome is Outcome.BLOCKED


# ------------------------------------------------------------ the planner


def _plan_token_fix(**fields: object) -> tuple[Disposition, tuple[str, ...], tuple[str, ...]]:
    guarded = replace(record("acme/service", golden_tree("reference")), **fields)  # type: ignore[arg-type]
    (repo,) = plan_of(FakeReader([guarded], {"acme/service": org_secrets("PAT_TOKEN")})).repos
    (change,) = [c for c in repo.changes if "token-mismatch" in c.rules]
    return change.disposition, change.reasons, repo.warnings


def test_the_planner_blocks_a_token_fix_a_tag_ruleset_refuses() -> None:
    disposition, reasons, _warnings = _plan_token_fix(rulesets=(TAGS,))
    assert disposition is Disposition.BLOCKED
    assert any("ruleset 'release tags'" in r and "remedy: add a bypass entry" in r for r in reasons)


def test_the_planner_makes_a_conditional_token_fix_review_and_keeps_the_enforce_admins_warning() -> None:
    admins = replace(TAGS, bypass=(BypassEntry(kind="RepositoryRole", role="admin"),))
    disposition, reasons, _warnings = _plan_token_fix(rulesets=(admins,))
    assert disposition is Disposition.REVIEW and any("bypass list of ruleset 'release tags'" in r for r in reasons)
    disposition, reasons, warnings = _plan_token_fix(
        protection=Protection(enforce_admins=True, required_checks=("ci",)))
    assert disposition is Disposition.REVIEW and any("enforce_admins" in r for r in reasons)
    assert any("enforces protection for admins" in w for w in warnings)
    disposition, _reasons, _warnings = _plan_token_fix(rulesets=(replace(TAGS, enforcement="evaluate"),))
    assert disposition is Disposition.SAFE


# ------------------------------------------------------------ end to end against the sandbox

SEED_TAGS = {"name": "release tags", "target": "tag", "enforcement": "active",
             "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
             "rules": [{"type": "creation"}, {"type": "deletion"}],
             "bypass_actors": [{"actor_type": "Integration", "actor_id": 77}]}


def test_plan_blocks_the_token_fix_a_tag_ruleset_refuses_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """acme/service: a tag ruleset only an App bypasses, so no PAT can push the release tag: blocked. acme/other:
    its admins bypass it, and the PAT owner's role is unknown to the plan: review. acme/trial: evaluate mode."""
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {name: golden_tree("reference") for name in ("service", "other", "trial")}},
        repo_meta={
            "acme/service": {"rulesets": [SEED_TAGS]},
            "acme/other": {"rulesets": [{**SEED_TAGS, "bypass_actors": [
                {"actor_type": "RepositoryRole", "actor_id": 5}]}]},
            "acme/trial": {"rulesets": [{**SEED_TAGS, "enforcement": "evaluate"}]},
        },
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {"tok-admin": "full"}}},
    )
    monkeypatch.setenv("GITHUB_TOKEN", "tok-admin")
    out = tmp_path / "plan.json"
    with running_sandbox(seed) as sandbox:
        assert main(["-q", "plan", "--org", "acme", "--api-url", sandbox.url, "-o", str(out)]) == 0
        graphql = [r for r in sandbox.requests() if r.path == "/graphql"]
        policy = [r for r in sandbox.requests() if r.path.endswith("/actions/permissions")]
    assert len(graphql) == 2 and len(policy) == 1  # the rulesets cost no request of their own
    repos = {r["name"]: r for r in json.loads(out.read_text())["repos"]}
    fixes = {name: next(c for c in repo["changes"] if "token-mismatch" in c["rules"]) for name, repo in repos.items()}
    assert fixes["acme/service"]["disposition"] == "blocked"
    assert any("ruleset 'release tags' (acme/service) restricts creating tags" in r
               and "remedy: add a bypass entry for the release identity to ruleset 'release tags'" in r
               for r in fixes["acme/service"]["reasons"])
    assert fixes["acme/other"]["disposition"] == "review"
    assert any("the admin role" in r for r in fixes["acme/other"]["reasons"])
    assert fixes["acme/trial"]["disposition"] == "safe"
    capsys.readouterr()
    assert main(["show", str(out), "--no-pager", "--no-diff"]) == 0
    assert "ruleset 'release tags' (acme/service) restricts creating tags" in capsys.readouterr().out
