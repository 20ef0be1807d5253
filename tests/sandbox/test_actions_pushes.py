"""Every way a push happens starts the push workflows, credited to whoever pushed (GitHub docs, "Events that
trigger workflows: push": a push of commits or tags, by any means)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.support import call, graphql

ON_PUSH = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n"
TOKEN = "tok-admin"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(tmp_path, {"acme": {"app": {".github/workflows/ci.yml": ON_PUSH, "README.md": "x\n"}}},
                      org_meta={"acme": {"tokens": {TOKEN: {"power": "full", "login": "pusher"}}}})
    with running_sandbox(seed, clock=FakeClock()) as running:
        yield running
        assert running.actions_errors() == []


def _head(sandbox: Sandbox, branch: str = "main") -> str:
    return str(call(sandbox, "GET", f"/repos/acme/app/git/ref/heads/{branch}", token=TOKEN)[2]["object"]["sha"])


def _contents(sandbox: Sandbox) -> None:
    body = {"message": "m", "content": base64.b64encode(b"y").decode()}
    assert call(sandbox, "PUT", "/repos/acme/app/contents/new.txt", token=TOKEN, body=body)[0] == 201


def _git_refs(sandbox: Sandbox) -> None:
    tree = call(sandbox, "POST", "/repos/acme/app/git/trees", token=TOKEN,
                body={"base_tree": call(sandbox, "GET", f"/repos/acme/app/git/commits/{_head(sandbox)}",
                                        token=TOKEN)[2]["tree"]["sha"],
                      "tree": [{"path": "b.txt", "mode": "100644", "type": "blob", "content": "b"}]})[2]["sha"]
    commit = call(sandbox, "POST", "/repos/acme/app/git/commits", token=TOKEN,
                  body={"message": "m", "tree": tree, "parents": [_head(sandbox)]})[2]["sha"]
    assert call(sandbox, "PATCH", "/repos/acme/app/git/refs/heads/main", token=TOKEN, body={"sha": commit})[0] == 200


def _new_branch(sandbox: Sandbox) -> None:
    body = {"ref": "refs/heads/topic", "sha": _head(sandbox)}
    assert call(sandbox, "POST", "/repos/acme/app/git/refs", token=TOKEN, body=body)[0] == 201


def _commit_on_branch(sandbox: Sandbox) -> None:
    mutation = ("mutation($i: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $i) { commit { oid } } }")
    given = {"branch": {"repositoryNameWithOwner": "acme/app", "branchName": "main"},
             "message": {"headline": "m"}, "expectedHeadOid": _head(sandbox),
             "fileChanges": {"additions": [{"path": "c.txt", "contents": base64.b64encode(b"c").decode()}]}}
    assert "errors" not in graphql(sandbox, mutation, {"i": given}, token=TOKEN)


def _merge(sandbox: Sandbox) -> None:
    _new_branch(sandbox)
    body = {"message": "m", "content": base64.b64encode(b"t").decode(), "branch": "topic"}
    call(sandbox, "PUT", "/repos/acme/app/contents/t.txt", token=TOKEN, body=body)
    pull = call(sandbox, "POST", "/repos/acme/app/pulls", token=TOKEN,
                body={"title": "T", "head": "topic", "base": "main"})[2]
    before = len(sandbox.store.repo("acme", "app").runs)  # type: ignore[union-attr]
    assert call(sandbox, "PUT", f"/repos/acme/app/pulls/{pull['number']}/merge", token=TOKEN, body={})[0] == 200
    assert len(sandbox.store.repo("acme", "app").runs) == before + 1  # type: ignore[union-attr]


WAYS: dict[str, Callable[[Sandbox], None]] = {
    "contents API": _contents,
    "git refs": _git_refs,
    "a new branch": _new_branch,
    "createCommitOnBranch": _commit_on_branch,
    "a merge": _merge,
}


@pytest.mark.parametrize("way", sorted(WAYS))
def test_every_push_starts_the_push_workflows(sandbox: Sandbox, way: str) -> None:
    WAYS[way](sandbox)
    listed = call(sandbox, "GET", "/repos/acme/app/actions/runs?event=push", token=TOKEN)[2]["workflow_runs"]
    assert listed and all(r["actor"]["login"] == "pusher" and r["conclusion"] == "success" for r in listed)
    newest = listed[0]
    branch = "topic" if way == "a new branch" else "main"
    assert (newest["head_branch"], newest["head_sha"]) == (branch, _head(sandbox, branch))
