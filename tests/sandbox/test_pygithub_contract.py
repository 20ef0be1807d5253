"""PyGithub pointed at the sandbox: every REST endpoint migrator relies on, through PyGithub's public API."""

from __future__ import annotations

import base64

import pytest
from github import Github, GithubException, InputGitTreeElement

from migrator.model import git_blob_sha
from migrator.sandbox.testing import Sandbox
from tests.sandbox.support import CI_YML, NO_WORKFLOW, READER, WRITER, call, client


def test_org_repos_and_repo(gh: Github) -> None:
    org = gh.get_organization("acme")
    names = {r.name for r in org.get_repos()}
    assert names == {"app", "lib", "old", "fork-x", "trunk", "empty"}
    repo = gh.get_repo("acme/app")
    assert (repo.full_name, repo.default_branch, repo.archived) == ("acme/app", "main", False)
    assert repo.get_topics() == ["release", "demo"]
    assert gh.get_repo("acme/old").archived
    assert gh.get_repo("acme/fork-x").fork and gh.get_repo("acme/fork-x").private


def test_org_repos_paginate_with_exact_links(sandbox: Sandbox) -> None:
    status, headers, body = call(sandbox, "GET", "/orgs/acme/repos?per_page=2&page=2")
    assert status == 200 and len(body) == 2
    base = f"{sandbox.url}/orgs/acme/repos?per_page=2"
    assert headers["link"] == (
        f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next", '
        f'<{base}&page=3>; rel="last", <{base}&page=1>; rel="first"'
    )
    gh = client(sandbox, per_page=2)
    assert len(list(gh.get_organization("acme").get_repos())) == 6
    pages = [e.path for e in sandbox.requests() if e.path.startswith("/orgs/acme/repos")]
    assert len(pages) == 4  # our request, then PyGithub's three pages


def test_unknown_repo_is_404(gh: Github) -> None:
    with pytest.raises(GithubException) as caught:
        gh.get_repo("acme/nope")
    assert caught.value.status == 404
    assert caught.value.data["message"] == "Not Found"


def test_contents_get_create_update_delete(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    readme = repo.get_contents("README.md")
    assert not isinstance(readme, list)
    assert readme.decoded_content == b"# lib\n"
    assert readme.sha == git_blob_sha(b"# lib\n")

    created = repo.create_file("docs/a.md", "add a", "hello\n", branch="main")
    assert created["content"].sha == git_blob_sha(b"hello\n")
    updated = repo.update_file("docs/a.md", "change a", "bye\n", created["content"].sha)
    assert updated["commit"].parents[0].sha == created["commit"].sha
    with pytest.raises(GithubException) as stale:
        repo.update_file("docs/a.md", "stale", "x\n", created["content"].sha)
    assert stale.value.status == 409
    assert stale.value.data["message"] == f"docs/a.md does not match {created['content'].sha}"
    repo.delete_file("docs/a.md", "remove a", updated["content"].sha)
    with pytest.raises(GithubException) as gone:
        repo.get_contents("docs/a.md")
    assert gone.value.status == 404
    listing = repo.get_contents("")
    assert isinstance(listing, list)
    assert {c.path for c in listing} == {"README.md", "package.json"}


def test_create_file_without_sha_on_existing_file_is_422(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    with pytest.raises(GithubException) as caught:
        repo.create_file("README.md", "overwrite", "x")
    assert caught.value.status == 422
    assert caught.value.data["message"] == 'Invalid request.\n\n"sha" wasn\'t supplied.'


def test_git_refs(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    main = repo.get_git_ref("heads/main")
    ref = repo.create_git_ref("refs/heads/feature", main.object.sha)
    assert ref.ref == "refs/heads/feature"
    with pytest.raises(GithubException) as exists:
        repo.create_git_ref("refs/heads/feature", main.object.sha)
    assert exists.value.status == 422
    assert exists.value.data["message"] == "Reference already exists"
    commit = repo.create_file("x.txt", "x", "x", branch="feature")["commit"]
    ref = repo.get_git_ref("heads/feature")
    assert ref.object.sha == commit.sha
    ref.edit(main.object.sha, force=True)
    assert repo.get_git_ref("heads/feature").object.sha == main.object.sha
    ref.delete()
    with pytest.raises(GithubException) as missing:
        repo.get_git_ref("heads/feature")
    assert missing.value.status == 404


def test_ref_update_must_fast_forward(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    base = repo.get_git_ref("heads/main").object.sha
    repo.create_git_ref("refs/heads/ff", base)
    side = repo.create_file("side.txt", "side", "side", branch="ff")["commit"].sha
    repo.create_git_ref("refs/heads/other", base)
    other = repo.create_file("o.txt", "o", "o", branch="other")["commit"].sha
    with pytest.raises(GithubException) as caught:
        repo.get_git_ref("heads/ff").edit(other)
    assert caught.value.data["message"] == "Update is not a fast forward"
    assert repo.get_git_ref("heads/ff").object.sha == side


def test_git_blobs_trees_commits(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    head = repo.get_branch("main").commit
    blob = repo.create_git_blob("new file\n", "utf-8")
    assert blob.sha == git_blob_sha(b"new file\n")
    assert base64.b64decode(repo.get_git_blob(blob.sha).content) == b"new file\n"
    base_tree = repo.get_git_tree(head.sha)
    tree = repo.create_git_tree([InputGitTreeElement("dir/new.txt", "100644", "blob", sha=blob.sha)], base_tree)
    paths = {e.path for e in repo.get_git_tree(tree.sha, recursive=True).tree}
    assert paths == {"README.md", "package.json", "dir", "dir/new.txt"}
    commit = repo.create_git_commit("add new", tree, [repo.get_git_commit(head.sha)])
    assert commit.parents[0].sha == head.sha
    repo.get_git_ref("heads/main").edit(commit.sha)
    assert repo.get_branch("main").commit.sha == commit.sha
    assert repo.get_commit(commit.sha).files[0].filename == "dir/new.txt"


def test_branch_and_protection(gh: Github) -> None:
    repo = gh.get_repo("acme/app")
    branch = repo.get_branch("main")
    assert branch.protected
    protection = branch.get_protection()
    assert protection.enforce_admins is False
    assert protection.required_status_checks.contexts == ["ci/build"]
    assert protection.required_pull_request_reviews.required_approving_review_count == 1
    with pytest.raises(GithubException) as caught:
        gh.get_repo("acme/lib").get_branch("main").get_protection()
    assert (caught.value.status, caught.value.data["message"]) == (404, "Branch not protected")


def test_pull_request_lifecycle(gh: Github, sandbox: Sandbox) -> None:
    repo = gh.get_repo("acme/lib")
    main_sha = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/fix", main_sha)
    repo.create_file("fix.txt", "fix", "fixed\n", branch="fix")
    pull = repo.create_pull(base="main", head="fix", title="Fix it", body="Because.")
    assert (pull.number, pull.state, pull.head.ref, pull.base.ref) == (1, "open", "fix", "main")
    with pytest.raises(GithubException) as exists:
        repo.create_pull(base="main", head="fix", title="again")
    assert exists.value.status == 422
    assert exists.value.data["errors"][0]["message"] == "A pull request already exists for acme:fix."
    assert [p.number for p in repo.get_pulls(head="acme:fix")] == [1]
    assert list(repo.get_pulls(head="acme:nothing")) == []
    pull.edit(title="Fix it properly")
    assert repo.get_pull(1).title == "Fix it properly"
    pull.create_issue_comment("looks good")
    assert [c.body for c in pull.get_issue_comments()] == ["looks good"]
    pull.add_to_labels("release", "bot")
    assert [label.name for label in repo.get_pull(1).labels] == ["release", "bot"]
    status = pull.merge(merge_method="merge")
    assert status.merged
    merged = repo.get_pull(1)
    assert merged.merged and merged.state == "closed"
    main = repo.get_branch("main").commit
    assert main.sha == status.sha
    assert [p.sha for p in main.parents] == [main_sha, merged.head.sha]
    assert repo.get_contents("fix.txt").decoded_content == b"fixed\n"  # type: ignore[union-attr]


def test_close_pull_request(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    repo.create_git_ref("refs/heads/closeme", repo.get_branch("main").commit.sha)
    repo.create_file("c.txt", "c", "c", branch="closeme")
    pull = repo.create_pull(base="main", head="closeme", title="to close")
    pull.edit(state="closed")
    assert repo.get_pull(pull.number).state == "closed"
    assert list(repo.get_pulls(state="open")) == []
    assert [p.number for p in repo.get_pulls(state="closed")] == [pull.number]


def test_statuses_and_check_runs(gh: Github) -> None:
    repo = gh.get_repo("acme/lib")
    commit = repo.get_commit(repo.get_branch("main").commit.sha)
    commit.create_status("pending", context="ci/build")
    commit.create_status("success", target_url="https://ci.example/1", description="ok", context="ci/build")
    assert [s.state for s in commit.get_statuses()] == ["success", "pending"]
    assert commit.get_combined_status().state == "success"
    run = repo.create_check_run("lint", commit.sha, status="completed", conclusion="success")
    assert run.conclusion == "success"
    assert [r.name for r in commit.get_check_runs()] == ["lint"]
    run.edit(conclusion="failure")
    assert repo.get_check_run(run.id).conclusion == "failure"


def test_secrets_lists_names_only(gh: Github) -> None:
    assert [s.name for s in gh.get_repo("acme/app").get_secrets()] == ["DEPLOY_KEY"]
    assert sorted(s.name for s in gh.get_organization("acme").get_secrets()) == ["NPM_TOKEN", "RELEASE_PAT"]


def test_rate_limit(gh: Github) -> None:
    limits = gh.get_rate_limit()
    assert limits.resources.core.limit == 5000
    assert limits.resources.graphql.limit == 5000


def test_read_only_token_cannot_write(sandbox: Sandbox) -> None:
    repo = client(sandbox, READER).get_repo("acme/lib")
    with pytest.raises(GithubException) as caught:
        repo.create_file("r.txt", "r", "r")
    assert caught.value.status == 403
    assert caught.value.data["message"] == "Resource not accessible by personal access token"


def test_token_without_workflow_scope_is_refused_on_workflow_files(sandbox: Sandbox) -> None:
    repo = client(sandbox, NO_WORKFLOW).get_repo("acme/lib")
    with pytest.raises(GithubException) as caught:
        repo.create_file(".github/workflows/x.yml", "add workflow", CI_YML)
    assert caught.value.status == 403
    assert caught.value.data["message"] == (
        "refusing to allow a Personal Access Token to create or update workflow `.github/workflows/x.yml` "
        "without `workflow` scope"
    )
    repo.create_file("docs/ok.md", "fine", "ok")  # other files are fine


def test_workflow_refusal_applies_to_git_data_pushes(sandbox: Sandbox) -> None:
    repo = client(sandbox, NO_WORKFLOW).get_repo("acme/lib")
    head = repo.get_branch("main").commit.sha
    blob = repo.create_git_blob(CI_YML, "utf-8")
    tree = repo.create_git_tree([InputGitTreeElement(".github/workflows/ci.yml", "100644", "blob", sha=blob.sha)],
                                repo.get_git_tree(head))
    commit = repo.create_git_commit("sneak", tree, [repo.get_git_commit(head)])
    with pytest.raises(GithubException) as caught:
        repo.create_git_ref("refs/heads/sneak", commit.sha)
    assert caught.value.status == 403
    assert "without `workflow` scope" in caught.value.data["message"]


def test_protected_branch_refuses_direct_push_unless_admin(sandbox: Sandbox) -> None:
    writer = client(sandbox, WRITER).get_repo("acme/app")
    with pytest.raises(GithubException) as caught:
        writer.create_file("w.txt", "direct", "w")
    assert caught.value.status == 409
    admin = client(sandbox).get_repo("acme/app")
    admin.create_file("w.txt", "admin bypass", "w")  # enforce_admins is false on acme/app
    enforced = client(sandbox).get_repo("acme/trunk")
    with pytest.raises(GithubException):
        enforced.create_file("t.txt", "direct", "t", branch="trunk")


def test_protected_merge_needs_required_checks(sandbox: Sandbox) -> None:
    repo = client(sandbox, WRITER).get_repo("acme/app")
    repo.create_git_ref("refs/heads/change", repo.get_branch("main").commit.sha)
    repo.create_file("n.txt", "n", "n", branch="change")
    pull = repo.create_pull(base="main", head="change", title="change")
    with pytest.raises(GithubException) as caught:
        pull.merge()
    assert caught.value.status == 405
    assert caught.value.data["message"] == 'Required status check "ci/build" is expected.'


def test_archived_repo_is_read_only(gh: Github) -> None:
    with pytest.raises(GithubException) as caught:
        gh.get_repo("acme/old").create_file("a.txt", "a", "a")
    assert caught.value.status == 403
    assert caught.value.data["message"] == "Repository was archived so is read-only."


def test_empty_repo(gh: Github) -> None:
    repo = gh.get_repo("acme/empty")
    with pytest.raises(GithubException) as caught:
        repo.get_contents("README.md")
    assert (caught.value.status, caught.value.data["message"]) == (404, "This repository is empty.")
    repo.create_file("README.md", "first", "# empty no more\n")
    assert repo.get_branch("main").commit.commit.message == "first"
