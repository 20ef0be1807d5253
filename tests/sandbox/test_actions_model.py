"""The Actions model's behaviours, each beside the documentation it follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.sandbox.actions.documents import Workflow, parse_workflow
from migrator.sandbox.actions.engine import MAX_CHAIN_DEPTH
from migrator.sandbox.actions.expressions import Scope, condition, interpolate
from migrator.sandbox.actions.release import release_level
from migrator.sandbox.actions.triggers import Event, matches, starts
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.actions_support import ADMIN, WORKFLOWS, job_log, jobs, push, runs
from tests.sandbox.support import call

SHA = "0" * 40


def _workflow(text: str) -> Workflow:
    return parse_workflow(WORKFLOWS + "w.yml", text.encode())


def _push(ref: str, changed: tuple[str, ...] = ("src/a.py",), *, by_github_token: bool = False) -> Event:
    return Event("push", ref, SHA, "someone", by_github_token=by_github_token, changed=changed)


# ------------------------------------------------------------ GitHub docs, "Events that trigger workflows" and
# "Workflow syntax for GitHub Actions: on.push.<branches|tags|paths>" and "Filter pattern cheat sheet"


@pytest.mark.parametrize(
    ("on", "ref", "expected"),
    [
        ("on: push", "refs/heads/topic", True),
        ("on: push", "refs/tags/v1.0.0", True),  # neither branch nor tag filters: both run
        ("on: {push: {branches: [main]}}", "refs/heads/main", True),
        ("on: {push: {branches: [main]}}", "refs/tags/v1.0.0", False),  # only branch filters: no tag pushes
        ("on: {push: {tags: ['v*']}}", "refs/heads/main", False),  # only tag filters: no branch pushes
        ("on: {push: {tags: ['v*']}}", "refs/tags/v1.0.0", True),
        ("on: {push: {branches: ['releases/*']}}", "refs/heads/releases/a/b", False),  # * stops at /
        ("on: {push: {branches: ['releases/**']}}", "refs/heads/releases/a/b", True),
        ("on: {push: {branches: ['*', '!main']}}", "refs/heads/main", False),  # a later ! pattern excludes
        ("on: {push: {branches: ['!main', '*']}}", "refs/heads/main", True),  # ...and order matters
        ("on: {push: {branches-ignore: [main]}}", "refs/heads/main", False),
        ("on: {push: {branches: ['v[12].x']}}", "refs/heads/v2.x", True),
    ],
)
def test_push_filters(on: str, ref: str, expected: bool) -> None:
    workflow = _workflow(on + "\njobs: {a: {runs-on: x, steps: [{run: echo}]}}\n")
    assert starts(workflow, _push(ref)) is expected


def test_path_filters_need_one_matching_file_and_are_not_evaluated_for_tags() -> None:
    workflow = _workflow("on: {push: {paths: ['docs/**']}}\njobs: {a: {steps: []}}\n")
    assert not starts(workflow, _push("refs/heads/main", ("src/a.py",)))
    assert starts(workflow, _push("refs/heads/main", ("src/a.py", "docs/x.md")))
    assert starts(workflow, _push("refs/tags/v1", ("src/a.py",)))
    ignoring = _workflow("on: {push: {paths-ignore: ['**.md']}}\njobs: {a: {steps: []}}\n")
    assert not starts(ignoring, _push("refs/heads/main", ("README.md",)))
    assert starts(ignoring, _push("refs/heads/main", ("README.md", "a.py")))


def test_github_token_events_start_nothing_but_the_dispatch_events() -> None:
    """GitHub docs, "Triggering a workflow from a workflow": events triggered by the GITHUB_TOKEN, with the
    exception of workflow_dispatch and repository_dispatch, will not create a new workflow run."""
    workflow = _workflow("on: [push, workflow_dispatch, repository_dispatch]\njobs: {a: {steps: []}}\n")
    assert not starts(workflow, _push("refs/heads/main", by_github_token=True))
    for name in ("workflow_dispatch", "repository_dispatch"):
        event = Event(name, "refs/heads/main", SHA, "github-actions[bot]", by_github_token=True)
        assert starts(workflow, event)


def test_release_types() -> None:
    """`on: release` without `types` runs for every activity type; `types` narrows them."""
    every = _workflow("on: release\njobs: {a: {steps: []}}\n")
    published = _workflow("on: {release: {types: [published]}}\njobs: {a: {steps: []}}\n")
    actions = ("created", "published", "released")
    events = [Event("release", "refs/tags/v1", SHA, "bot", action=a) for a in actions]
    assert [starts(every, e) for e in events] == [True, True, True]
    assert [starts(published, e) for e in events] == [False, True, False]


def test_an_unreadable_workflow_starts_nothing() -> None:
    assert not starts(_workflow("on: [push\n"), _push("refs/heads/main"))
    assert not starts(_workflow("name: no triggers\njobs: {}\n"), _push("refs/heads/main"))
    assert matches(["*"], "main") and not matches(["*"], "a/b")


# ------------------------------------------------------------ GitHub docs, "Evaluate expressions in workflows"


def test_expressions() -> None:
    scope = Scope({"github": {"ref": "refs/heads/main", "event_name": "push"},
                   "needs": {"release": {"outputs": {"published": "true"}, "result": "success"}},
                   "secrets": {"PAT": "tok"}})
    assert condition("github.ref == 'refs/heads/main' && github.event_name == 'push'", scope)
    assert condition("${{ needs.release.outputs.published == 'true' }}", scope)
    assert condition("github.ref == 'REFS/HEADS/MAIN'", scope)  # string comparison ignores case
    assert not condition("github.event_name == 'pull_request'", scope)
    assert condition(None, scope) and not condition(None, Scope(failed=True))  # no if: means success()
    assert condition("always()", Scope(failed=True)) and condition("failure()", Scope(failed=True))
    assert not condition("github.ref == 'refs/heads/main'", Scope(scope.contexts, failed=True))
    assert condition("startsWith(github.ref, 'refs/heads/') && !contains(github.ref, 'tags')", scope)
    assert interpolate("x-access-token:${{ secrets.PAT }}@${{ secrets.MISSING }}", scope) == "x-access-token:tok@"
    assert interpolate("${{ secrets.PAT || secrets.GITHUB_TOKEN }}", scope) == "tok"


# ------------------------------------------------------------ conventional commits (semantic-release's default
# commit-analyzer, the angular preset)


@pytest.mark.parametrize(
    ("message", "level"),
    [("fix: a", 1), ("perf(core): b", 1), ("feat: c", 2), ("feat!: d", 3), ("fix: e\n\nBREAKING CHANGE: f", 3),
     ("docs: g", 0), ("chore(release): 1.0.0 [skip ci]", 0), ("Merge pull request #1", 0)],
)
def test_release_levels(message: str, level: int) -> None:
    assert release_level(message) == level


# ------------------------------------------------------------ credentials, against the sandbox


RELEASE = """name: release
on: {{push: {{branches: [main]}}}}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
{steps}
"""


def _seed(tmp_path: Path, steps: str, *, protected: bool = True) -> Path:
    meta = {"protection": {"contexts": ["ci"]}} if protected else {}
    return write_seed(
        tmp_path,
        {"acme": {"app": {WORKFLOWS + "release.yml": RELEASE.format(steps=steps), "package.json": "{}\n"}}},
        repo_meta={"acme/app": meta},
        org_meta={"acme": {"secrets": {"PAT_TOKEN": ADMIN}, "tokens": {ADMIN: "full"}}},
    )


def _release(tmp_path: Path, steps: str, *, protected: bool = True) -> tuple[str, str]:
    with running_sandbox(_seed(tmp_path, steps, protected=protected), clock=FakeClock()) as sandbox:
        push(sandbox, "fix: a bug")
        run = runs(sandbox)[-1]  # the first run: what the pushed commit started
        job = jobs(sandbox, run["id"])["release"]
        assert sandbox.actions_errors() == []
        return str(job["conclusion"]), job_log(sandbox, job["id"])


CHECKOUT = "      - uses: actions/checkout@v4\n"
NO_PERSIST = "      - uses: actions/checkout@v4\n        with: {persist-credentials: false}\n"


def _semantic_release(env: str) -> str:
    return f"      - run: npx semantic-release\n        env: {{{env}}}\n"


def test_the_persisted_checkout_credential_wins_over_any_token_semantic_release_is_given(tmp_path: Path) -> None:
    """actions/checkout persists its token as an http extraheader that git sends with every request to github.com,
    so semantic-release's URL with GH_TOKEN still pushes as GITHUB_TOKEN."""
    conclusion, log = _release(tmp_path, CHECKOUT + _semantic_release("GH_TOKEN: '${{ secrets.PAT_TOKEN }}'"))
    assert conclusion == "failure" and "EGITNOPERMISSION" in log and "GH006" in log


def test_without_a_persisted_credential_one_token_variable_is_used(tmp_path: Path) -> None:
    conclusion, log = _release(tmp_path, NO_PERSIST + _semantic_release("GH_TOKEN: '${{ secrets.PAT_TOKEN }}'"))
    assert conclusion == "success", log
    assert "Published release 1.0.0" in log


def test_several_token_variables_are_tried_in_order_and_the_first_that_can_push_wins(tmp_path: Path) -> None:
    """semantic-release `get-git-auth-url`: GIT_CREDENTIALS, then GH_TOKEN, then GITHUB_TOKEN."""
    env = "GIT_CREDENTIALS: 'not-a-token', GH_TOKEN: '${{ secrets.PAT_TOKEN }}', GITHUB_TOKEN: '${{ github.token }}'"
    conclusion, log = _release(tmp_path / "a", NO_PERSIST + _semantic_release(env))
    assert conclusion == "success", log
    env = "GIT_CREDENTIALS: 'not-a-token', GITHUB_TOKEN: '${{ github.token }}'"
    conclusion, log = _release(tmp_path / "b", NO_PERSIST + _semantic_release(env))
    assert conclusion == "failure" and "EGITNOPERMISSION" in log


def test_a_checkout_with_the_pat_releases(tmp_path: Path) -> None:
    steps = ("      - uses: actions/checkout@v4\n        with: {token: '${{ secrets.PAT_TOKEN }}'}\n"
             + _semantic_release("GITHUB_TOKEN: '${{ secrets.PAT_TOKEN }}'"))
    assert _release(tmp_path, steps)[0] == "success"


def test_an_ssh_deploy_key_pushes_as_the_key(tmp_path: Path) -> None:
    """actions/checkout `ssh-key`: origin becomes an SSH URL; a deploy key is no admin, so protection applies."""
    steps = ("      - uses: actions/checkout@v4\n        with: {ssh-key: '${{ secrets.DEPLOY_KEY }}'}\n"
             + _semantic_release("GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}'"))
    assert _release(tmp_path / "a", steps)[0] == "failure"
    assert _release(tmp_path / "b", steps, protected=False)[0] == "success"


def test_no_checkout_means_no_git_repository(tmp_path: Path) -> None:
    conclusion, log = _release(tmp_path, _semantic_release("GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}'"))
    assert conclusion == "failure" and "ENOGITREPO" in log


def test_a_dry_run_still_probes_the_push(tmp_path: Path) -> None:
    """semantic-release verifies push access before anything else, in --dry-run too."""
    steps = CHECKOUT + "      - run: npx semantic-release --dry-run\n        env: {GITHUB_TOKEN: x}\n"
    conclusion, log = _release(tmp_path, steps)
    assert conclusion == "failure" and "EGITNOPERMISSION" in log


def test_python_semantic_release_pushes_its_version_commit_with_gh_token(tmp_path: Path) -> None:
    steps = ("      - uses: actions/checkout@v4\n        with: {persist-credentials: false}\n"
             "      - uses: python-semantic-release/python-semantic-release@v9\n"
             "        with: {github_token: '${{ secrets.PAT_TOKEN }}'}\n")
    assert _release(tmp_path / "a", steps)[0] == "success"
    failing = steps.replace("secrets.PAT_TOKEN", "secrets.GITHUB_TOKEN")
    conclusion, log = _release(tmp_path / "b", failing)
    assert conclusion == "failure" and "GH006" in log


@pytest.fixture
def unprotected(tmp_path: Path) -> Iterator[Sandbox]:
    steps = ("      - uses: actions/checkout@v4\n        with: {token: '${{ secrets.PAT_TOKEN }}'}\n"
             "      - uses: python-semantic-release/python-semantic-release@v9\n"
             "        with: {github_token: '${{ secrets.PAT_TOKEN }}'}\n")
    with running_sandbox(_seed(tmp_path, steps, protected=False), clock=FakeClock()) as sandbox:
        yield sandbox
        assert sandbox.actions_errors() == []


def test_a_commit_the_model_pushes_with_a_pat_starts_workflows_again(unprotected: Sandbox) -> None:
    """python-semantic-release's version commit, pushed with the PAT, is a push event: the workflow runs on it
    (its commit is not releasable, so the chain ends there)."""
    push(unprotected, "feat: x")
    assert [(r["event"], r["conclusion"]) for r in reversed(runs(unprotected))] == [
        ("push", "success"), ("push", "success")]
    assert [t["name"] for t in call(unprotected, "GET", "/repos/acme/app/tags")[2]] == ["v0.1.0"]


def test_skip_ci_in_the_head_commit_starts_no_push_run(unprotected: Sandbox) -> None:
    """GitHub docs, "Skipping workflow runs"."""
    push(unprotected, "fix: quiet [skip ci]")
    assert runs(unprotected) == []


def test_chains_stop_at_a_bounded_depth(unprotected: Sandbox) -> None:
    repo = unprotected.store.repo("acme", "app")
    assert repo is not None
    head = repo.branch_sha("main") or ""
    engine = unprotected.app.actions
    with unprotected.store.lock:
        engine.handle(repo, Event("push", "refs/heads/main", head, "x", depth=MAX_CHAIN_DEPTH + 1))
    assert (runs(unprotected), engine.truncated) == ([], 1)


def test_a_listed_secret_is_a_full_power_pat_of_the_sandbox_user(tmp_path: Path) -> None:
    """The seed's list form (`"secrets": ["RELEASE_PAT"]`) stands for a PAT of an org admin."""
    steps = ("      - uses: actions/checkout@v4\n        with: {token: '${{ secrets.RELEASE_PAT }}'}\n"
             + _semantic_release("GITHUB_TOKEN: '${{ secrets.RELEASE_PAT }}'"))
    seed = write_seed(tmp_path, {"acme": {"app": {WORKFLOWS + "release.yml": RELEASE.format(steps=steps)}}},
                      repo_meta={"acme/app": {"protection": {"contexts": ["ci"]}}},
                      org_meta={"acme": {"secrets": ["RELEASE_PAT"]}})
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        push(sandbox, "fix: a bug")
        latest = call(sandbox, "GET", "/repos/acme/app/releases/latest")[2]
        assert (latest["tag_name"], latest["author"]["login"]) == ("v1.0.0", "sandbox-user")


def test_scripts_push_images_and_branches_as_git_would(tmp_path: Path) -> None:
    """`docker push IMAGE:TAG` is an image push; `git push` with the persisted GITHUB_TOKEN meets GH006."""
    steps = (CHECKOUT + "      - run: |\n          docker build -t ghcr.io/acme/app:edge .\n"
             "          docker push ghcr.io/acme/app:edge\n          git push origin HEAD:main\n")
    conclusion, log = _release(tmp_path, steps)
    assert conclusion == "failure" and "GH006: Protected branch update failed for refs/heads/main." in log
    assert "The push refers to repository [ghcr.io/acme/app]" in log
