"""release-app-token's preflight: the App installed on the repository, its secrets, the bypass lists of the
branch and tag rules, and the Actions policy for the inserted action; blocked or review, never safe."""

from __future__ import annotations

from dataclasses import replace

from migrator.github.installations import AppInstallation
from migrator.github.types import ActionsPolicy, BypassEntry, Protection, RepoRecord, Ruleset, RulesetRule, SecretNames
from migrator.model import Fix, Safety, TextEdit
from migrator.plan.app_preflight import AppLookup, facts_for, with_app_preflight
from migrator.plan.model import Disposition
from migrator.plan.preflight import AppFacts, Outcome, app_obstacles
from migrator.rules.release_app_token import PINNED_USES, inserted_actions, read_secrets

TAGS = Ruleset(name="release tags", id=7, target="tag", enforcement="active", source="acme/service",
               include=("refs/tags/v*",), rules=(RulesetRule(type="creation"),))  # fmt: skip
RECORD = RepoRecord(full_name="acme/service", default_branch="main", head_oid="a" * 40)
APP = AppFacts(slug="release-bot", app_id=77, installed=True)
STEP = (
    "      - id: app-token\n"
    f"        uses: {PINNED_USES}\n"
    "        with:\n"
    "          app-id: ${{ secrets.RELEASE_APP_ID }}\n"
    "          private-key: ${{ secrets.RELEASE_APP_KEY }}\n"
)
FIX = Fix("mint an App token", Safety.REVIEW, (TextEdit("w.yml", 10, 10, STEP),), requires_secret="RELEASE_APP_KEY")


def _outcomes(record: RepoRecord = RECORD, facts: AppFacts = APP, policy: ActionsPolicy | None = None) -> list[str]:
    found = app_obstacles(record, facts, policy or ActionsPolicy(), [PINNED_USES])
    return [f"{o.outcome.value}: {o.why}" for o in found]


def test_the_fix_says_what_it_inserts_and_which_secrets_it_reads() -> None:
    assert inserted_actions(FIX) == [PINNED_USES.split(" #")[0]]
    assert read_secrets(FIX) == ["RELEASE_APP_ID", "RELEASE_APP_KEY"]


def test_an_installed_app_with_nothing_in_the_way_has_no_obstacle() -> None:
    assert _outcomes() == []


def test_an_app_not_installed_on_the_repository_is_blocked_with_the_remedy() -> None:
    [obstacle] = app_obstacles(RECORD, replace(APP, installed=False), ActionsPolicy(), [PINNED_USES])
    assert obstacle.outcome is Outcome.BLOCKED
    assert "release-bot is not installed on acme/service" in obstacle.why and "install release-bot" in obstacle.remedy


def test_an_installation_the_token_cannot_see_is_review_never_safe() -> None:
    unknown = replace(APP, installed=None, installed_unknown_why="listing needs an org owner's token")
    assert _outcomes(facts=unknown) == [
        "conditional: whether release-bot is installed on acme/service is unknown: listing needs an org owner's token"
    ]


def test_a_tag_ruleset_without_the_app_blocks_naming_the_ruleset_and_with_it_passes() -> None:
    blocked = app_obstacles(replace(RECORD, rulesets=(TAGS,)), APP, ActionsPolicy(), [PINNED_USES])
    assert [o.outcome for o in blocked] == [Outcome.BLOCKED]
    assert "ruleset 'release tags'" in blocked[0].why
    assert (
        blocked[0].remedy == "add Integration 77 (actor_type Integration) to the bypass list of ruleset 'release tags'"
    )
    listed = replace(TAGS, bypass=(BypassEntry(kind="Integration", app_id=77),))
    assert _outcomes(record=replace(RECORD, rulesets=(listed,))) == []


def test_an_action_outside_the_allowed_list_is_blocked_and_sha_pinning_is_met() -> None:
    selected = ActionsPolicy(allowed_actions="selected", github_owned_allowed=False, patterns_allowed=("acme/*",))
    [obstacle] = app_obstacles(RECORD, APP, selected, [PINNED_USES])
    assert obstacle.outcome is Outcome.BLOCKED and "actions/create-github-app-token is not among them" in obstacle.why
    assert _outcomes(policy=replace(selected, github_owned_allowed=True, sha_pinning_required=True)) == []
    pinned_only = ActionsPolicy(sha_pinning_required=True)
    assert [o.rule for o in app_obstacles(RECORD, APP, pinned_only, ["actions/create-github-app-token@v2"])] == [
        "sha pinning"
    ]
    assert "unknown" in _outcomes(policy=ActionsPolicy(readable=False))[0]


def test_the_planner_blocks_a_missing_id_secret_and_reviews_everything_else() -> None:
    none = SecretNames(repo=frozenset(), org=frozenset({"RELEASE_APP_KEY"}))
    disposition, reasons = with_app_preflight(
        FIX, Disposition.REVIEW, (), record=RECORD, facts=APP, policy=ActionsPolicy(), secrets=none
    )
    assert disposition is Disposition.BLOCKED
    assert any("secret RELEASE_APP_ID" in r and "remedy: create secret RELEASE_APP_ID" in r for r in reasons)
    both = SecretNames(repo=frozenset({"RELEASE_APP_ID"}), org=frozenset({"RELEASE_APP_KEY"}))
    assert with_app_preflight(
        FIX, Disposition.REVIEW, (), record=RECORD, facts=APP, policy=ActionsPolicy(), secrets=both
    ) == (Disposition.REVIEW, ())


class _Reader:
    def __init__(self) -> None:
        self.asked = 0

    def app_installation(self, org: str, slug: str) -> AppInstallation:
        self.asked += 1
        return AppInstallation(slug, True, 77, repositories=frozenset({"acme/service"}))


def test_the_installation_is_read_once_per_plan() -> None:
    reader = _Reader()
    lookup = AppLookup(reader, "acme", "release-bot")  # type: ignore[arg-type]
    facts = [facts_for(replace(RECORD, full_name=name), lookup, "release-bot") for name in ("acme/service", "acme/x")]
    assert [f.installed for f in facts] == [True, False] and reader.asked == 1
    assert facts_for(RECORD, AppLookup(reader, "acme", None), None).installed is None


def test_classic_protection_lets_the_app_past_only_if_it_may_bypass() -> None:
    checks = replace(RECORD, protection=Protection(required_checks=("test",)))
    assert [o.outcome for o in app_obstacles(checks, APP, ActionsPolicy(), [PINNED_USES])] == [Outcome.CONDITIONAL]
    enforced = replace(RECORD, protection=Protection(required_checks=("test",), enforce_admins=True))
    [obstacle] = app_obstacles(enforced, APP, ActionsPolicy(), [PINNED_USES])
    assert obstacle.outcome is Outcome.BLOCKED and "protect main with a ruleset instead" in obstacle.remedy


def test_the_org_s_only_app_id_and_key_secrets_are_found_and_ambiguity_falls_back() -> None:
    from migrator.analysis.context import RepoContext, RuleSettings
    from migrator.model import RepoSnapshot
    from migrator.rules.release_app_token import app_secrets

    def chosen(*names: str) -> tuple[str, str]:
        ctx = RepoContext(RepoSnapshot.of("acme/x", {}), RuleSettings(org_secrets=names))
        found = app_secrets(ctx)
        return found.client_id, found.key_secret

    assert chosen("NPM_TOKEN", "BOT_APP_ID", "BOT_APP_PRIVATE_KEY") == ("secrets.BOT_APP_ID", "BOT_APP_PRIVATE_KEY")
    assert chosen("A_APP_ID", "B_APP_ID", "A_APP_KEY") == ("vars.RELEASE_APP_ID", "RELEASE_APP_PRIVATE_KEY")
