"""release-app-token end to end: plan, apply and merge against the sandbox, then the next release, run by the
Actions model (which mints the App token from the secrets, as actions/create-github-app-token does).

- A tag ruleset that no PAT may bypass makes the token fix `blocked`, naming the ruleset; with the App on its
  bypass list, release-app-token is planned (`review`), applied, merged, and the next release is made by the App.
- `enforce_admins` (the seed's situation): the PAT fix is `review` with the remedy; with the App allowed past
  the branch rules (in classic protection's bypass_pull_request_allowances, or a ruleset with the App on its bypass
  list), the App rule makes the release pass; the App not on the allowances is `blocked` with that remedy.
  Required status checks under enforce_admins let no one push: the remedy is a ruleset.
- SHA pinning required by the org: every inserted `uses:` is pinned (and runs); an action outside the allowed
  list makes the fix `blocked`, saying why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.sandbox.testing import AppKey, FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.actions_support import MAIN, job_log, jobs, push, runs
from tests.sandbox.support import call

ADMIN = "tok-admin"  # what tests.sandbox.support calls with
REVIEWER = "tok-review"  # a colleague with write access, who approves the fix's pull request
APP_ID, INSTALLATION, SLUG = 77, 456, "release-app"
PERMISSIONS = {"contents": "write", "issues": "write", "pull_requests": "write", "workflows": "write",
               "metadata": "read"}  # fmt: skip
TAGS: dict[str, Any] = {
    "name": "release tags",
    "target": "tag",
    "enforcement": "active",
    "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
    "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
}
APP_BYPASS = [{"actor_type": "Integration", "actor_id": APP_ID, "bypass_mode": "always"}]
MAIN_RULES: dict[str, Any] = {
    "name": "main",
    "target": "branch",
    "enforcement": "active",
    "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
    "rules": [{"type": "pull_request", "parameters": {"required_approving_review_count": 0}}],
    "bypass_actors": APP_BYPASS,
}
APP_FLAGS = ("--rule", "release-app-token", "--app-slug", SLUG, "--app-client-id-secret", "RELEASE_APP_ID",
             "--app-key-secret", "RELEASE_APP_KEY")  # fmt: skip


@pytest.fixture(scope="module")
def key() -> AppKey:
    return AppKey.generate()


def _seed(
    root: Path,
    key: AppKey,
    *,
    rulesets: list[dict[str, Any]],
    protection: dict[str, Any] | None = None,
    actions: dict[str, Any] | None = None,
    secrets: bool = True,
) -> Path:
    files = {"README.md": "# app\n", "package.json": '{"name": "app", "version": "0.0.0-development"}\n',
             ".github/workflows/main.yml": MAIN}  # fmt: skip
    app = key.app_entry(APP_ID, INSTALLATION, PERMISSIONS) | {"slug": SLUG, "repositories": ["app"]}
    org_secrets: dict[str, Any] = {"PAT_TOKEN": ADMIN, "NPM_TOKEN": None}
    if secrets:
        org_secrets |= {"RELEASE_APP_ID": str(APP_ID), "RELEASE_APP_KEY": key.private_pem}
    meta: dict[str, Any] = {"rulesets": rulesets}
    if protection is not None:
        meta["protection"] = protection
    tokens = {ADMIN: {"power": "full", "login": "release-bot"}, REVIEWER: {"power": "write", "login": "reviewer"}}
    org: dict[str, Any] = {"secrets": org_secrets, "tokens": tokens, "apps": [app]}
    if actions is not None:
        org["actions"] = actions
    return write_seed(root, {"acme": {"app": files}}, repo_meta={"acme/app": meta}, org_meta={"acme": org})


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _cli(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*argv, "--api-url", sandbox.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _plan(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], out: Path, *flags: str) -> dict[str, Any]:
    code, output = _cli(sandbox, capsys, "plan", "--org", "acme", "--out", str(out), *flags)
    assert code in (0, 1), output
    plan: dict[str, Any] = json.loads(out.read_text())
    return plan


def _change(plan: dict[str, Any]) -> dict[str, Any]:
    [repo] = plan["repos"]
    [change] = repo["changes"]
    return dict(change)


def _apply_and_merge(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], plan: Path, *, approve: bool = False
) -> None:
    """A reviewer enables the repository (its change is `review`), applies with --include-review, and merges
    (once a colleague approved the pull request, with `approve`)."""
    data = json.loads(plan.read_text())
    data["repos"][0]["enabled"] = True
    plan.write_text(json.dumps(data, indent=2))
    code, output = _cli(sandbox, capsys, "apply", str(plan), "--include-review", "--min-interval", "0")
    assert code == 0, output
    repo = sandbox.store.repo("acme", "app")
    assert repo is not None
    open_pulls = [p for p in repo.pulls.values() if p.state == "open"]
    assert len(open_pulls) == 1, output
    [pull] = open_pulls
    if approve:
        status, _headers, review = call(sandbox, "POST", f"/repos/acme/app/pulls/{pull.number}/reviews",
                                        body={"event": "APPROVE"}, token=REVIEWER)  # fmt: skip
        assert status == 200, review
    status, _headers, merged = call(sandbox, "PUT", f"/repos/acme/app/pulls/{pull.number}/merge", token=ADMIN,
                                    body={"merge_method": "squash"})  # fmt: skip
    assert status == 200, merged


def _released_by_the_app(sandbox: Sandbox) -> str:
    """Push a releasable commit; the release run must succeed and the release be the App's."""
    sha = push(sandbox, "fix: handle empty input")
    [run] = runs(sandbox, f"?head_sha={sha}")
    release = jobs(sandbox, run["id"])["release"]
    log = job_log(sandbox, release["id"])
    assert run["conclusion"] == "success", log
    latest = call(sandbox, "GET", "/repos/acme/app/releases/latest")[2]
    assert (latest["tag_name"], latest["author"]["login"]) == ("v1.0.0", f"{SLUG}[bot]")
    return log


def _inserted_uses(sandbox: Sandbox) -> list[str]:
    repo = sandbox.store.repo("acme", "app")
    assert repo is not None
    text = call(sandbox, "GET", "/repos/acme/app/contents/.github/workflows/main.yml", token=ADMIN)[2]
    import base64

    workflow = base64.b64decode(text["content"]).decode()
    return re.findall(r"uses:\s*(actions/create-github-app-token@\S+)", workflow)


def test_a_tag_ruleset_blocks_the_pat_fix_and_the_app_rule_releases(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = _seed(world / "seed", key, rulesets=[TAGS | {"bypass_actors": []}])
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        token_fix = _change(_plan(sandbox, capsys, world / "pat.json"))
        assert token_fix["disposition"] == "blocked"
        assert any("ruleset 'release tags'" in r and "restricts creating tags" in r for r in token_fix["reasons"])
        app_fix = _change(_plan(sandbox, capsys, world / "app.json", *APP_FLAGS))
        assert app_fix["disposition"] == "blocked"  # the App is not on the ruleset's bypass list either
        assert any("add Integration 77 (actor_type Integration) to the bypass list" in r for r in app_fix["reasons"])

    seed = _seed(world / "seed2", key, rulesets=[TAGS | {"bypass_actors": APP_BYPASS}])
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        assert _change(_plan(sandbox, capsys, world / "pat2.json"))["disposition"] == "blocked"
        app_fix = _change(_plan(sandbox, capsys, world / "app2.json", *APP_FLAGS))
        assert app_fix["disposition"] == "review", app_fix["reasons"]
        assert app_fix["rules"] == ["release-app-token"]
        _apply_and_merge(sandbox, capsys, world / "app2.json")
        log = _released_by_the_app(sandbox)
        assert f"as {SLUG}[bot]" in log
        assert sandbox.actions_errors() == []


def test_the_app_must_be_installed_and_its_secrets_exist(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = _seed(world / "seed", key, rulesets=[TAGS | {"bypass_actors": APP_BYPASS}], secrets=False)
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        app_fix = _change(_plan(sandbox, capsys, world / "app.json", *APP_FLAGS))
        assert app_fix["disposition"] == "blocked"
        assert any("RELEASE_APP_KEY exists neither" in r for r in app_fix["reasons"]), app_fix["reasons"]
        assert any("secret RELEASE_APP_ID" in r and "create secret" in r for r in app_fix["reasons"])
    seed = _seed(world / "seed2", key, rulesets=[])
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        flags = [f if f != SLUG else "another-app" for f in APP_FLAGS]
        app_fix = _change(_plan(sandbox, capsys, world / "other.json", *flags))
        assert app_fix["disposition"] == "blocked"
        assert any("another-app is not installed on acme/app" in r for r in app_fix["reasons"])


def test_enforce_admins_makes_the_pat_fix_review_and_the_app_releases_past_a_ruleset(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str]
) -> None:
    protection = {"enforce_admins": True, "contexts": ["test"], "required_reviews": 1}
    seed = _seed(world / "seed", key, rulesets=[], protection=protection)
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        token_fix = _change(_plan(sandbox, capsys, world / "pat.json"))
        assert token_fix["disposition"] == "review"
        assert any("enforces them for admins" in r and "rule release-app-token" in r for r in token_fix["reasons"])
        app_fix = _change(_plan(sandbox, capsys, world / "app0.json", *APP_FLAGS))
        assert app_fix["disposition"] == "blocked"  # required checks under enforce_admins: no one gets past
        assert any("protect main with a ruleset instead" in r for r in app_fix["reasons"]), app_fix["reasons"]
    # The seed's way out: the branch rules as a ruleset with the App on its bypass list, and the App's token.
    seed = _seed(world / "seed2", key, rulesets=[MAIN_RULES, TAGS | {"bypass_actors": APP_BYPASS}])
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        app_fix = _change(_plan(sandbox, capsys, world / "app.json", *APP_FLAGS))
        assert app_fix["disposition"] == "review", app_fix["reasons"]
        _apply_and_merge(sandbox, capsys, world / "app.json")
        _released_by_the_app(sandbox)


def test_enforce_admins_with_the_app_allowed_to_bypass_pull_requests_lets_the_app_release(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's situation under classic protection alone: a PR requirement enforced for admins, and the App in
    'Allow specified actors to bypass required pull requests' (GitHub's bypass_pull_request_allowances)."""
    allowed = {"enforce_admins": True, "required_reviews": 1, "bypass_pull_request_allowances": {"apps": [SLUG]}}
    seed = _seed(world / "seed", key, rulesets=[], protection=allowed)
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        token_fix = _change(_plan(sandbox, capsys, world / "pat.json"))
        assert token_fix["disposition"] == "review"
        assert any("enforces them for admins" in r and "rule release-app-token" in r for r in token_fix["reasons"])
        app_fix = _change(_plan(sandbox, capsys, world / "app.json", *APP_FLAGS))
        assert app_fix["disposition"] == "review", app_fix["reasons"]
        assert not any("branch protection of main" in r for r in app_fix["reasons"]), app_fix["reasons"]
        _apply_and_merge(sandbox, capsys, world / "app.json", approve=True)  # the PR requirement holds for merges
        log = _released_by_the_app(sandbox)
        assert f"as {SLUG}[bot]" in log
        assert sandbox.actions_errors() == []
    # The App not on the list: blocked, with the remedy.
    listed_other = allowed | {"bypass_pull_request_allowances": {"apps": ["another-app"], "users": ["release-bot"]}}
    seed = _seed(world / "seed2", key, rulesets=[], protection=listed_other)
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        app_fix = _change(_plan(sandbox, capsys, world / "app2.json", *APP_FLAGS))
        assert app_fix["disposition"] == "blocked"
        remedy = "add the App release-app to 'Allow specified actors to bypass required pull requests'"
        assert any(remedy in r for r in app_fix["reasons"]), app_fix["reasons"]
        token_fix = _change(_plan(sandbox, capsys, world / "pat2.json"))
        assert token_fix["disposition"] == "review"
        assert any("allowed to bypass required pull requests (user release-bot" in r for r in token_fix["reasons"])


def test_sha_pinning_is_met_by_construction_and_a_disallowed_action_is_blocked(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str]
) -> None:
    pinned = {"allowed_actions": "selected", "sha_pinning_required": True,
              "selected_actions": {"github_owned_allowed": True, "patterns_allowed": ["cycjimmy/*"]}}  # fmt: skip
    seed = _seed(world / "seed", key, rulesets=[TAGS | {"bypass_actors": APP_BYPASS}], actions=pinned)
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        app_fix = _change(_plan(sandbox, capsys, world / "app.json", *APP_FLAGS))
        assert app_fix["disposition"] == "review", app_fix["reasons"]
        _apply_and_merge(sandbox, capsys, world / "app.json")
        [uses] = _inserted_uses(sandbox)
        assert re.fullmatch(r"actions/create-github-app-token@[0-9a-f]{40}", uses)
    others_only = {"allowed_actions": "selected",
                   "selected_actions": {"github_owned_allowed": False, "patterns_allowed": ["acme/*"]}}  # fmt: skip
    seed = _seed(world / "seed2", key, rulesets=[], actions=others_only)
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        app_fix = _change(_plan(sandbox, capsys, world / "app2.json", *APP_FLAGS))
        assert app_fix["disposition"] == "blocked"
        assert any("actions/create-github-app-token is not among them" in r for r in app_fix["reasons"])


def test_a_plan_made_as_the_release_app_reads_its_own_installation(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from migrator.github import auth as auth_module

    clock = FakeClock()
    monkeypatch.setattr(auth_module, "_now", clock)  # migrator signs its JWTs on the sandbox's clock
    monkeypatch.delenv("GITHUB_TOKEN")
    key_path = world / "app.pem"
    key_path.write_text(key.private_pem)
    as_app = ("--app-id", str(APP_ID), "--app-key", str(key_path), "--installation-id", str(INSTALLATION))
    seed = _seed(world / "seed", key, rulesets=[TAGS | {"bypass_actors": APP_BYPASS}])
    with running_sandbox(seed, clock=clock) as sandbox:
        app_fix = _change(_plan(sandbox, capsys, world / "app.json", *APP_FLAGS, *as_app))
        assert app_fix["disposition"] == "review", app_fix["reasons"]
        assert not any("is unknown:" in r and "installed" in r for r in app_fix["reasons"]), app_fix["reasons"]
        paths = [r.path.partition("?")[0] for r in sandbox.requests()]
        assert "/installation/repositories" in paths and f"/apps/{SLUG}" in paths


def test_the_app_preflight_costs_one_installation_read_per_plan(
    world: Path, key: AppKey, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {".github/workflows/main.yml": MAIN, "package.json": '{"name": "x"}\n'}
    names = ("one", "two", "three")
    app = key.app_entry(APP_ID, INSTALLATION, PERMISSIONS) | {"slug": SLUG}
    seed = write_seed(
        world / "seed",
        {"acme": dict.fromkeys(names, files)},
        org_meta={"acme": {"tokens": {ADMIN: "full"}, "apps": [app],
                           "secrets": ["PAT_TOKEN", "RELEASE_APP_ID", "RELEASE_APP_KEY"]}},
    )  # fmt: skip
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        plan = _plan(sandbox, capsys, world / "app.json", *APP_FLAGS)
        assert [r["changes"][0]["disposition"] for r in plan["repos"]] == ["review"] * 3
        paths = [r.path.partition("?")[0] for r in sandbox.requests()]
        assert paths.count("/orgs/acme/installations") == 1
        assert paths.count("/orgs/acme/actions/secrets") == 1
        assert not any(p.endswith("/actions/secrets") and p.startswith("/repos/") for p in paths)
        # without --app-client-id-secret/--app-key-secret, the org's only App id and key secrets are used
        plan = _plan(sandbox, capsys, world / "found.json", "--rule", "release-app-token", "--app-slug", SLUG)
        after = plan["repos"][0]["changes"][0]["after_with_review"] or plan["repos"][0]["changes"][0]["after"]
        assert "app-id: ${{ secrets.RELEASE_APP_ID }}" in after and "${{ secrets.RELEASE_APP_KEY }}" in after
        assert "its only App id and App key" in " ".join(plan["repos"][0]["changes"][0]["reasons"])
