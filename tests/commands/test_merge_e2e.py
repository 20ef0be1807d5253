"""`migrator merge` end to end against the sandbox: it merges exactly what each repository's rules allow, gives
every other pull request its reason, decides a dry run exactly as the real run, and honours --auto, --method and
merge queues."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-author-0123456789"
REVIEWER = "tok-reviewer-0123456789"
PLANNED = ".github/workflows/main.yml"
REQUIRE_TEST = {"protection": {"contexts": ["ci/test"]}}  # the workflows run no job of that name
REQUIRE_REVIEW = {"protection": {"required_reviews": 1}}
REPOS: dict[str, dict[str, Any]] = {
    "open": {},  # no protection: merges
    "green": REQUIRE_TEST,  # the required check passes: merges
    "red": REQUIRE_TEST,  # the required check fails
    "waiting": REQUIRE_TEST,  # the required check has not finished
    "reviewed": REQUIRE_REVIEW,  # approved: merges
    "unreviewed": REQUIRE_REVIEW,  # needs an approval
    "conflict": {},  # main changed the planned file since
    "rebase-only": {"merge_methods": ["rebase"]},
    "queued": {"merge_queue": True},
    "closed": {},  # a person closed the PR
}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {name: golden_tree("reference") for name in REPOS}},
        repo_meta={f"acme/{name}": meta for name, meta in REPOS.items() if meta},
        org_meta={
            "acme": {
                "secrets": ["PAT_TOKEN"],
                "tokens": {TOKEN: "full", REVIEWER: {"power": "write", "login": "reviewer"}},
            }
        },
    )
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)


def gh(sandbox: Sandbox, method: str, path: str, body: Any = None, *, token: str = TOKEN) -> Any:
    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def applied(sandbox: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    common = ["--api-url", sandbox.url]
    assert main(["plan", "--org", "acme", "--out", str(path), *common]) == 0
    assert main(["apply", str(path), "--min-interval", "0", *common]) == 0
    return path


def pull(sandbox: Sandbox, repo: str) -> dict[str, Any]:
    pulls = gh(sandbox, "GET", f"/repos/acme/{repo}/pulls?state=all")
    assert len(pulls) == 1
    return dict(pulls[0])


def status(sandbox: Sandbox, repo: str, state: str, context: str = "ci/test") -> None:
    sha = pull(sandbox, repo)["head"]["sha"]
    url = f"https://ci.example/{repo}/{state}"
    gh(sandbox, "POST", f"/repos/acme/{repo}/statuses/{sha}", {"state": state, "context": context, "target_url": url})


def approve(sandbox: Sandbox, repo: str) -> None:
    number = pull(sandbox, repo)["number"]
    gh(sandbox, "POST", f"/repos/acme/{repo}/pulls/{number}/reviews", {"event": "APPROVE"}, token=REVIEWER)


def prepare(sandbox: Sandbox) -> None:
    status(sandbox, "green", "success")
    status(sandbox, "red", "failure")
    status(sandbox, "waiting", "pending")
    approve(sandbox, "reviewed")
    gh(sandbox, "POST", "/_sandbox/repos/acme/conflict/commit", {"files": {PLANNED: "name: main\non: push\n"}})
    number = pull(sandbox, "closed")["number"]
    gh(sandbox, "PATCH", f"/repos/acme/closed/pulls/{number}", {"state": "closed"})


def merge(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["merge", str(path), "--api-url", sandbox.url, "--min-interval", "0", "--format", "json", *extra])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    body = json.loads(out.out)
    return code, {row["repo"].split("/", 1)[1]: row for row in body["repos"]}


def merges(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests() if r.method == "PUT" and r.path.endswith("/merge"))


EXPECTED_REASONS = {
    "red": "checks failing: ci/test (https://ci.example/red/failure)",
    "waiting": "checks pending: ci/test (https://ci.example/waiting/pending)",
    "unreviewed": "needs 1 approving review",
    "conflict": "conflicts with main; run apply to refresh",
    "closed": "closed by a person; not reopened",
}


def test_merge_merges_exactly_what_the_rules_allow_and_says_why_not_the_rest(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    prepare(sandbox)
    sandbox.clear_requests()
    code, rows = merge(capsys, sandbox, path)
    assert code == 1  # some were not merged
    reads = [r for r in sandbox.requests() if r.operation == "MigratorMergeFacts"]
    assert len(reads) == 1  # ten pull requests, one bulk read; then one write per merge
    assert merges(sandbox) == 4 and sandbox.stats()["graphql_mutations"] >= 1  # four merges, one enqueue
    statuses = {name: row["status"] for name, row in rows.items()}
    assert statuses == {
        "open": "merged",
        "green": "merged",
        "red": "blocked",
        "waiting": "pending",
        "reviewed": "merged",
        "unreviewed": "pending",
        "conflict": "blocked",
        "rebase-only": "merged",
        "queued": "queued",  # handed to the queue (the sandbox's merges it at once)
        "closed": "closed",
    }
    for name, reason in EXPECTED_REASONS.items():
        assert rows[name]["detail"] == reason, name
    for name in ("open", "green", "reviewed", "rebase-only", "queued"):
        assert pull(sandbox, name)["merged"], name
    for name in ("red", "waiting", "unreviewed", "conflict"):
        assert pull(sandbox, name)["state"] == "open", name
    assert rows["open"]["method"] == "squash"  # the first the repository allows: squash, merge, rebase
    assert rows["rebase-only"]["method"] == "rebase"
    assert rows["queued"]["detail"] == "in the merge queue"
    # merged on main as the merging identity, which the Actions model ran the push workflows for
    main_head = gh(sandbox, "GET", "/repos/acme/open/commits/main")
    assert main_head["sha"] == pull(sandbox, "open")["merge_commit_sha"]
    assert sandbox.actions_errors() == []

    # a re-run merges nothing more and writes nothing
    before = merges(sandbox)
    code, again = merge(capsys, sandbox, path)
    assert merges(sandbox) == before
    done = ("open", "green", "reviewed", "rebase-only", "queued")
    assert {n: again[n]["status"] for n in done} == dict.fromkeys(done, "merged")
    assert again["open"]["detail"] == "merged (by an earlier run of merge)"


def test_a_dry_run_decides_exactly_as_the_real_run_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    prepare(sandbox)
    journal = path.with_name(path.name + ".journal.jsonl")
    lines = journal.read_text().count("\n")
    sandbox.clear_requests()
    mutations = sandbox.stats()["graphql_mutations"]
    code, dry = merge(capsys, sandbox, path, "--dry-run")
    assert [r for r in sandbox.requests() if r.method in ("PUT", "PATCH", "DELETE")] == []
    assert sandbox.stats()["graphql_mutations"] == mutations
    assert journal.read_text().count("\n") == lines
    assert code == 1  # a dry run exits as the real run would: some will not merge
    code, real = merge(capsys, sandbox, path)
    assert code == 1
    for name, row in dry.items():
        if row["status"] == "dry-run":
            assert real[name]["status"] in ("merged", "queued"), name
            assert row["detail"].startswith("would "), row
        else:
            assert (row["status"], row["detail"]) == (real[name]["status"], real[name]["detail"]), name


def test_an_approval_arriving_later_lets_the_next_run_merge(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    code, rows = merge(capsys, sandbox, path, "--repo", "unreviewed")
    assert rows["unreviewed"]["status"] == "pending"
    approve(sandbox, "unreviewed")
    code, rows = merge(capsys, sandbox, path, "--repo", "unreviewed")
    assert code == 0 and rows["unreviewed"]["status"] == "merged"


def test_auto_enables_githubs_auto_merge_which_merges_once_the_check_passes(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    status(sandbox, "waiting", "pending")
    code, rows = merge(capsys, sandbox, path, "--repo", "waiting", "--auto")
    assert "auto-merge is not allowed in this repository" in rows["waiting"]["detail"]
    gh(sandbox, "PATCH", "/repos/acme/waiting", {"allow_auto_merge": True})
    code, rows = merge(capsys, sandbox, path, "--repo", "waiting", "--auto")
    assert code == 0 and rows["waiting"]["status"] == "auto-merge", rows
    assert pull(sandbox, "waiting")["auto_merge"]["merge_method"] == "squash"
    assert not pull(sandbox, "waiting")["merged"]
    status(sandbox, "waiting", "success")  # GitHub merges it now, as the identity that enabled auto-merge
    assert pull(sandbox, "waiting")["merged"]
    code, rows = merge(capsys, sandbox, path, "--repo", "waiting", "--auto")
    assert rows["waiting"]["status"] == "merged"


def test_method_is_honoured_and_refused_where_the_repository_does_not_allow_it(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    code, rows = merge(capsys, sandbox, path, "--repo", "rebase-only", "--repo", "open", "--method", "merge")
    assert code == 1 and rows["rebase-only"]["status"] == "blocked"
    assert rows["rebase-only"]["detail"] == "the repository does not allow merge merges (it allows rebase)"
    assert rows["open"]["status"] == "merged" and rows["open"]["method"] == "merge"
    merged = pull(sandbox, "open")["merge_commit_sha"]
    commit = gh(sandbox, "GET", f"/repos/acme/open/git/commits/{merged}")
    assert len(commit["parents"]) == 2  # a merge commit


def test_admin_merges_past_requirements_only_when_asked(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    code, rows = merge(capsys, sandbox, path, "--repo", "unreviewed")
    assert rows["unreviewed"]["status"] == "pending" and not pull(sandbox, "unreviewed")["merged"]
    code, rows = merge(capsys, sandbox, path, "--repo", "unreviewed", "--admin")
    assert code == 0 and rows["unreviewed"]["status"] == "merged"
    assert rows["unreviewed"]["detail"] == "merged (squash) as an admin"


def test_the_text_table_has_a_summary_line(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    capsys.readouterr()
    code = main(["merge", str(path), "--api-url", sandbox.url, "--min-interval", "0", "--repo", "open"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split()[:3] == ["repository", "merge", "PR"]
    assert out[1].split()[:2] == ["acme/open", "merged"]
    assert out[-1].startswith("1 merged; journal: ")


def test_bad_input_is_one_line_before_any_request(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = applied(sandbox, tmp_path)
    capsys.readouterr()
    assert main(["merge", str(path), "--api-url", sandbox.url, "--limit", "0"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["merge", str(path), "--api-url", sandbox.url, "--repo", "nope"]) == 2
    assert "no pull request to merge" in capsys.readouterr().err


def test_a_repository_apply_did_not_finish_is_named_with_the_command_that_finishes_it(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.json"
    api = ["--api-url", sandbox.url]
    assert main(["plan", "--org", "acme", "--out", str(path), "--repo", "open", "--repo", "green", *api]) == 0
    sandbox.add_fault(
        {
            "match": {"method": "POST", "path_regex": "/repos/acme/open/pulls$"},
            "response": {"status": 502},
            "times": None,
        }
    )
    assert main(["apply", str(path), "--min-interval", "0", *api]) == 1
    sandbox.app.faults.clear()
    capsys.readouterr()
    assert main(["merge", str(path), "--min-interval", "0", *api]) == 1  # green's required check never ran
    err = capsys.readouterr().err
    assert "1 repositories have no pull request in the journal yet (acme/open)" in err
    assert f"re-run `migrator apply {path}` to finish them" in err
