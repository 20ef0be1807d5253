"""The seed's scenario, end to end against the sandbox through its REST and control APIs (never through
migrator's rules): the release fails with GITHUB_TOKEN, works once the PAT is used, and the duplicate docker
workflows race to push one tag as soon as releases are made with a token that starts workflows.

Behaviour and its source, beside each test:
- GITHUB_TOKEN cannot push past branch protection, and semantic-release then fails with EGITNOPERMISSION carrying
  GitHub's GH006 text: GitHub docs "About protected branches"; semantic-release `index.js` (verifyAuth) and
  `lib/definitions/errors.js`.
- Events made with GITHUB_TOKEN start no workflow; a PAT's or an App's do: GitHub docs "Triggering a workflow from
  a workflow".
- A tag push starts `on: push: tags` workflows and a published release starts `on: release: types: [published]`:
  GitHub docs "Events that trigger workflows".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox
from tests.sandbox.actions_support import (
    ADMIN,
    APP_SLUG,
    FIXED_MAIN,
    INSTALLATION,
    WORKFLOWS,
    WRITER,
    job_log,
    jobs,
    merge_fix,
    pipeline_seed,
    push,
    pushes_by_reference,
    runs,
)
from tests.sandbox.support import call

GH006 = "remote: error: GH006: Protected branch update failed for refs/heads/main."
IMAGE = "ghcr.io/acme/app"


def _sandbox(tmp_path: Path, **seed: object) -> Iterator[Sandbox]:
    with running_sandbox(pipeline_seed(tmp_path, **seed), clock=FakeClock()) as sandbox:  # type: ignore[arg-type]
        yield sandbox
        assert sandbox.actions_errors() == []


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Sandbox]:
    yield from _sandbox(tmp_path)


def _release_job(sandbox: Sandbox, run_id: int) -> dict[str, object]:
    return jobs(sandbox, run_id)["release"]


def test_a_fix_push_fails_with_egitnopermission_and_githubs_refusal(broken: Sandbox) -> None:
    sha = push(broken, "fix: handle empty input")
    [run] = runs(broken, f"?branch=main&event=push&head_sha={sha}")
    assert (run["path"], run["status"], run["conclusion"]) == (".github/workflows/main.yml", "completed", "failure")
    found = jobs(broken, run["id"])
    assert {name: job["conclusion"] for name, job in found.items()} == {
        "test": "success", "release": "failure", "docker": "skipped"}
    release = found["release"]
    failed = [step["name"] for step in release["steps"] if step["conclusion"] == "failure"]
    assert failed == ["Release"]
    log = job_log(broken, release["id"])
    assert "EGITNOPERMISSION Cannot push to the Git repository." in log
    assert GH006 in log and "x-access-token:[secure]@github.com/acme/app.git HEAD:main" in log
    assert call(broken, "GET", "/repos/acme/app/tags")[2] == []
    assert call(broken, "GET", "/repos/acme/app/releases/latest")[0] == 404
    assert broken.registry() == []


def test_the_failing_jobs_are_check_runs_on_the_pushed_commit(broken: Sandbox) -> None:
    """GitHub docs, "About status checks": each job of a workflow run is a check run on the commit."""
    sha = push(broken, "fix: handle empty input")
    checks = call(broken, "GET", f"/repos/acme/app/commits/{sha}/check-runs")[2]["check_runs"]
    assert {c["name"]: c["conclusion"] for c in checks} == {"test": "success", "release": "failure",
                                                            "docker": "skipped"}
    assert {c["app"]["slug"] for c in checks} == {"github-actions"}


def test_after_the_token_fix_is_merged_the_release_succeeds_and_each_tag_is_pushed_once(broken: Sandbox) -> None:
    push(broken, "fix: handle empty input")
    merged = merge_fix(broken, {WORKFLOWS + "main.yml": FIXED_MAIN, WORKFLOWS + "docker.yml": None,
                                WORKFLOWS + "docker-build.yml": None})
    [run] = runs(broken, f"?head_sha={merged['sha']}")
    assert (run["conclusion"], run["actor"]["login"]) == ("success", "release-bot")  # who merged
    assert {n: j["conclusion"] for n, j in jobs(broken, run["id"]).items()} == {
        "test": "success", "release": "success", "docker": "success"}
    assert [t["name"] for t in call(broken, "GET", "/repos/acme/app/tags")[2]] == ["v1.0.0"]
    latest = call(broken, "GET", "/repos/acme/app/releases/latest")[2]
    assert (latest["tag_name"], latest["author"]["login"]) == ("v1.0.0", "release-bot")
    assert pushes_by_reference(broken) == {f"{IMAGE}:1.0.0": [run["id"]]}
    tag_runs = runs(broken, "?event=push&branch=v1.0.0")
    assert tag_runs == []  # the tag push started nothing: docker.yml is gone


def test_before_the_duplicates_are_deleted_one_tag_is_pushed_by_three_runs(tmp_path: Path) -> None:
    """The race: the PAT's tag push starts docker.yml, its published release starts docker-build.yml, and the
    release workflow's own docker job pushes the same tag."""
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN):
        push(sandbox, "fix: handle empty input")
        [pushers] = pushes_by_reference(sandbox).values()
        assert len(pushers) == 3
        workflows = sorted({p.workflow for p in sandbox.registry()})
        assert workflows == [WORKFLOWS + "docker-build.yml", WORKFLOWS + "docker.yml", WORKFLOWS + "main.yml"]
        events = sorted(r["event"] for r in runs(sandbox))
        assert events == ["push", "push", "release"]  # main on the branch, docker.yml on the tag, the release


def test_with_github_token_the_release_starts_no_workflow(tmp_path: Path) -> None:
    """Even where GITHUB_TOKEN may push (no protection), its tag and release start nothing."""
    root = pipeline_seed(tmp_path)
    meta = root / "acme" / "app.meta.json"
    meta.write_text("{}")
    with running_sandbox(root, clock=FakeClock()) as sandbox:
        push(sandbox, "feat: a feature")
        assert [r["path"] for r in runs(sandbox)] == [WORKFLOWS + "main.yml"]
        latest = call(sandbox, "GET", "/repos/acme/app/releases/latest")[2]
        assert (latest["tag_name"], latest["author"]["login"]) == ("v1.0.0", "github-actions[bot]")
        assert pushes_by_reference(sandbox) == {f"{IMAGE}:1.0.0": [runs(sandbox)[0]["id"]]}
        assert sandbox.actions_errors() == []


def test_an_app_installation_token_as_the_secret_releases_as_the_app_and_races_too(tmp_path: Path) -> None:
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN, pat=f"app:{INSTALLATION}"):
        push(sandbox, "fix: handle empty input")
        latest = call(sandbox, "GET", "/repos/acme/app/releases/latest")[2]
        assert (latest["tag_name"], latest["author"]["login"]) == ("v1.0.0", f"{APP_SLUG}[bot]")
        assert [len(ids) for ids in pushes_by_reference(sandbox).values()] == [3]


def test_an_app_token_after_the_whole_fix_pushes_each_tag_once(tmp_path: Path) -> None:
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN, pat=f"app:{INSTALLATION}", docker=False):
        push(sandbox, "fix: handle empty input")
        assert [len(ids) for ids in pushes_by_reference(sandbox).values()] == [1]


def test_a_write_token_still_fails_with_githubs_refusal(tmp_path: Path) -> None:
    """A PAT without admin never bypasses protection (GitHub docs, "About protected branches")."""
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN, pat=WRITER, enforce_admins=True):
        sha = push(sandbox, "fix: handle empty input")
        [run] = runs(sandbox, f"?head_sha={sha}")
        log = job_log(sandbox, _release_job(sandbox, run["id"])["id"])  # type: ignore[arg-type]
        assert run["conclusion"] == "failure"
        assert "EGITNOPERMISSION" in log and GH006 in log


def test_an_admin_token_fails_where_protection_is_enforced_for_admins(tmp_path: Path) -> None:
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN, pat=ADMIN, enforce_admins=True):
        sha = push(sandbox, "fix: handle empty input")
        [run] = runs(sandbox, f"?head_sha={sha}")
        assert run["conclusion"] == "failure"
        assert GH006 in job_log(sandbox, _release_job(sandbox, run["id"])["id"])  # type: ignore[arg-type]


def test_no_releasable_commit_means_a_green_run_and_no_release(tmp_path: Path) -> None:
    """semantic-release: "There are no relevant changes, so no new version is released."."""
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN):
        sha = push(sandbox, "docs: typo")
        [run] = runs(sandbox, f"?head_sha={sha}")
        assert run["conclusion"] == "success"
        assert jobs(sandbox, run["id"])["docker"]["conclusion"] == "skipped"
        assert call(sandbox, "GET", "/repos/acme/app/releases")[2] == []


def test_versions_follow_conventional_commits_since_the_last_tag(tmp_path: Path) -> None:
    for sandbox in _sandbox(tmp_path, main=FIXED_MAIN, docker=False):
        push(sandbox, "fix: one")
        push(sandbox, "feat: two")
        push(sandbox, "refactor!: three")
        tags = [t["name"] for t in call(sandbox, "GET", "/repos/acme/app/tags")[2]]
        assert tags == ["v2.0.0", "v1.1.0", "v1.0.0"]
        names = [r["tag_name"] for r in call(sandbox, "GET", "/repos/acme/app/releases")[2]]
        assert names == ["v2.0.0", "v1.1.0", "v1.0.0"]


def test_runs_are_in_progress_until_the_delay_has_passed(tmp_path: Path) -> None:
    clock = FakeClock()
    with running_sandbox(pipeline_seed(tmp_path, main=FIXED_MAIN, docker=False), clock=clock,
                         actions_delay=60) as sandbox:
        sha = push(sandbox, "fix: slow")
        [run] = runs(sandbox, f"?head_sha={sha}")
        assert (run["status"], run["conclusion"]) == ("in_progress", None)
        assert runs(sandbox, "?status=in_progress") == [run]
        assert call(sandbox, "GET", "/repos/acme/app/tags")[2] == []
        clock.advance(61)
        [done] = runs(sandbox, f"?head_sha={sha}")
        assert (done["status"], done["conclusion"]) == ("completed", "success")
        assert [t["name"] for t in call(sandbox, "GET", "/repos/acme/app/tags")[2]] == ["v1.0.0"]
        assert sandbox.actions_errors() == []


def test_workflows_lists_the_files_directly_in_the_workflows_folder(broken: Sandbox) -> None:
    push(broken, "chore: nested", {".github/workflows/sub/nested.yml": "on: push\njobs: {a: {steps: []}}\n",
                                   ".github/workflows/notes.txt": "on: push\n"})
    body = call(broken, "GET", "/repos/acme/app/actions/workflows")[2]
    assert sorted(w["path"] for w in body["workflows"]) == [
        WORKFLOWS + "docker-build.yml", WORKFLOWS + "docker.yml", WORKFLOWS + "main.yml"]
    assert {r["path"] for r in runs(broken)} == {WORKFLOWS + "main.yml"}


def test_the_sandbox_command_sets_the_actions_model() -> None:
    import argparse

    from migrator.errors import UsageError
    from migrator.sandbox.command import configure, settings_from

    parser = argparse.ArgumentParser()
    configure(parser)
    default = settings_from(parser.parse_args(["--seed", "x"]))
    assert (default.actions, default.actions_delay) == (True, 0.0)
    chosen = settings_from(parser.parse_args(["--seed", "x", "--actions-delay", "30", "--no-actions"]))
    assert (chosen.actions, chosen.actions_delay) == (False, 30.0)
    with pytest.raises(UsageError, match="--actions-delay"):
        settings_from(parser.parse_args(["--seed", "x", "--actions-delay", "-1"]))


def test_no_actions_means_no_runs(tmp_path: Path) -> None:
    with running_sandbox(pipeline_seed(tmp_path), clock=FakeClock(), actions=False) as sandbox:
        push(sandbox, "fix: quiet")
        assert runs(sandbox) == []


CI = """name: ci
on:
  pull_request:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm test
"""


def test_pull_requests_get_their_checks_and_required_checks_then_let_a_writer_merge(tmp_path: Path) -> None:
    """GitHub docs, "Events that trigger workflows: pull_request" (opened, synchronize, reopened by default;
    `branches` filter the base branch) and "About protected branches: required status checks"."""
    from migrator.sandbox.testing import write_seed

    seed = write_seed(tmp_path, {"acme": {"app": {WORKFLOWS + "ci.yml": CI, "README.md": "x\n"}}},
                      repo_meta={"acme/app": {"protection": {"contexts": ["test"], "required_reviews": 0}}},
                      org_meta={"acme": {"tokens": {ADMIN: "full", WRITER: "write"}}})
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        head = call(sandbox, "GET", "/repos/acme/app/git/ref/heads/main", token=WRITER)[2]["object"]["sha"]
        call(sandbox, "POST", "/repos/acme/app/git/refs", token=WRITER, body={"ref": "refs/heads/topic", "sha": head})
        assert runs(sandbox) == []  # a branch push: ci.yml listens to pull requests only
        pull = call(sandbox, "POST", "/repos/acme/app/pulls", token=WRITER,
                    body={"title": "T", "head": "topic", "base": "main"})
        assert pull[0] == 422  # no commits between main and topic
        push_topic = {"branch": "topic", "message": "feat: x", "files": {"x.txt": "x"}}
        call(sandbox, "POST", "/_sandbox/repos/acme/app/commit", token=None, body=push_topic)
        pull = call(sandbox, "POST", "/repos/acme/app/pulls", token=WRITER,
                    body={"title": "T", "head": "topic", "base": "main"})
        [opened] = runs(sandbox, "?event=pull_request")
        assert (opened["head_branch"], opened["conclusion"]) == ("topic", "success")
        sha = call(sandbox, "POST", "/_sandbox/repos/acme/app/commit", token=None, body=push_topic)[2]["sha"]
        [synchronized] = runs(sandbox, f"?event=pull_request&head_sha={sha}")
        assert synchronized["head_sha"] == sha
        merged = call(sandbox, "PUT", f"/repos/acme/app/pulls/{pull[2]['number']}/merge", token=WRITER, body={})
        assert merged[0] == 200, merged  # the required check "test" is green on the head
        assert sandbox.actions_errors() == []
