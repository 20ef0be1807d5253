"""Preflight with classic protection's actor lists: the App in 'Allow specified actors to bypass required pull
requests' passes a PR requirement (even under enforce_admins) but never required status checks; push
restrictions must list the pusher. The PAT fix under enforce_admins stays conditional, naming the users allowed."""

from __future__ import annotations

from dataclasses import replace

from migrator.github.types import ActionsPolicy, Allowances, Protection, RepoRecord
from migrator.plan.preflight import AppFacts, Identity, Outcome, app_obstacles, preflight
from migrator.rules.release_app_token import PINNED_USES

RECORD = RepoRecord(full_name="acme/service", default_branch="main", head_oid="a" * 40)
APP = AppFacts(slug="release-app", app_id=77, installed=True)
ENFORCED_REVIEWS = Protection(enforce_admins=True, required_reviews=1)


def _app(protection: Protection) -> list[tuple[Outcome, str, str]]:
    found = app_obstacles(replace(RECORD, protection=protection), APP, ActionsPolicy(), [PINNED_USES])
    return [(o.outcome, o.why, o.remedy) for o in found]


def test_the_app_on_the_bypass_allowances_passes_a_pull_request_requirement_enforced_for_admins() -> None:
    by_id = replace(ENFORCED_REVIEWS, bypass_pull_requests=Allowances(app_ids=(77,)))
    by_slug = replace(ENFORCED_REVIEWS, bypass_pull_requests=Allowances(apps=("release-app",)))
    assert _app(by_id) == [] and _app(by_slug) == []


def test_the_app_not_on_them_is_blocked_with_the_remedy() -> None:
    others = replace(ENFORCED_REVIEWS, bypass_pull_requests=Allowances(apps=("another-app",), users=("alice",)))
    [(outcome, why, remedy)] = _app(others)
    assert outcome is Outcome.BLOCKED and "user alice, the App another-app" in why
    assert remedy == ("add the App release-app to 'Allow specified actors to bypass required pull requests' "
                      "in the protection of main")  # fmt: skip
    unlisted = replace(ENFORCED_REVIEWS, bypass_pull_requests=Allowances(apps=("another-app",), complete=False))
    assert [o for o, _w, _r in _app(unlisted)] == [Outcome.CONDITIONAL]  # the bulk read saw only the first 10


def test_required_checks_under_enforce_admins_block_the_app_even_on_the_allowances() -> None:
    checks = replace(ENFORCED_REVIEWS, required_checks=("test",), bypass_pull_requests=Allowances(app_ids=(77,)))
    [(outcome, _why, remedy)] = _app(checks)
    assert outcome is Outcome.BLOCKED and "protect main with a ruleset instead" in remedy


def test_push_restrictions_must_list_the_app() -> None:
    assert _app(Protection(push_allowances=Allowances(app_ids=(77,)))) == []
    [(outcome, _why, remedy)] = _app(Protection(push_allowances=Allowances(users=("alice",))))
    assert outcome is Outcome.BLOCKED and "'Restrict who can push to matching branches'" in remedy


def test_the_pat_fix_stays_conditional_and_names_the_users_allowed_to_bypass() -> None:
    allowed = replace(ENFORCED_REVIEWS, bypass_pull_requests=Allowances(users=("release-bot",), apps=("x",)))
    verdict = preflight(replace(RECORD, protection=allowed), Identity(kind="pat"))
    assert verdict.outcome is Outcome.CONDITIONAL
    assert "allowed to bypass required pull requests (user release-bot, the App x)" in verdict.reason
    assert "enforce_admins" in verdict.remedy
    known = preflight(replace(RECORD, protection=allowed), Identity(kind="pat", login="release-bot"))
    assert known.outcome is Outcome.OK
    no_users = preflight(replace(RECORD, protection=ENFORCED_REVIEWS), Identity(kind="pat"))
    assert no_users.outcome is Outcome.CONDITIONAL and "allowed to bypass" not in no_users.reason
