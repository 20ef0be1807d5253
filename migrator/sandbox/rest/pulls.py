"""Pull requests, their review requests, and issue comments and labels on them."""

from __future__ import annotations

import re
from typing import Any

from migrator.sandbox import ops, shapes
from migrator.sandbox.http import ApiError, Response, not_found, validation_failed
from migrator.sandbox.rest.core import (
    Ctx,
    Json,
    created,
    paginate,
    pull_of,
    repo_of,
    route,
    writable,
)
from migrator.sandbox.rest.git import file_json
from migrator.sandbox.store import (
    Label,
    PullRequest,
    Repo,
)

# ---------------------------------------------------------------- pulls


@route("GET", "{repo}/pulls")
def list_pulls(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    state = ctx.request.param("state", "open")
    head = ctx.request.param("head")
    base = ctx.request.param("base")
    pulls = [
        p
        for p in repo.pulls.values()
        if state in ("all", p.state) and _head_matches(repo, p, head) and (not base or p.base_ref == base)
    ]
    pulls.sort(key=lambda p: p.number, reverse=ctx.request.param("direction", "desc") == "desc")
    return paginate(ctx, pulls, lambda p: shapes.pull_request(ctx.base, ctx.store, repo, p))


def _head_matches(repo: Repo, pull: PullRequest, head: str | None) -> bool:
    if not head:
        return True
    owner, _, branch = head.rpartition(":")
    return (not owner or owner.lower() == repo.org.lower()) and pull.head_ref == branch


@route("POST", "{repo}/pulls")
def create_pull(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    for field in ("head", "base"):
        if not isinstance(body.get(field), str):
            raise validation_failed("PullRequest", code="missing_field", field=field)
    pull = ops.create_pull(
        ctx.store,
        repo,
        head=body["head"],
        base=body["base"],
        title=str(body.get("title") or ""),
        body=body.get("body"),
        draft=bool(body.get("draft", False)),
    )
    data = shapes.pull_request(ctx.base, ctx.store, repo, pull)
    return created(data, data["url"])


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)")
def get_pull(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return Response(200, shapes.pull_request(ctx.base, ctx.store, repo, pull_of(repo, g["number"])))


@route("PATCH", "{repo}/pulls/(?P<number>[0-9]+)")
def update_pull(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = pull_of(repo, g["number"])
    body = ctx.body()
    if "title" in body:
        pull.title = str(body["title"])
    if "body" in body:
        pull.body = body["body"]
    if "base" in body:
        if repo.branch_sha(str(body["base"])) is None:
            raise validation_failed("PullRequest", code="invalid", field="base")
        pull.base_ref = str(body["base"])
    if body.get("state") == "closed":
        ops.close_pull(ctx.store, pull)
    elif body.get("state") == "open" and pull.state == "closed":
        ops.reopen_pull(ctx.store, repo, pull)
    pull.updated_at = ctx.store.clock()
    return Response(200, shapes.pull_request(ctx.base, ctx.store, repo, pull))


@route("PUT", "{repo}/pulls/(?P<number>[0-9]+)/merge")
def merge_pull(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = pull_of(repo, g["number"])
    body = ctx.body()
    method = str(body.get("merge_method") or "merge")
    if method not in ("merge", "squash", "rebase"):
        raise validation_failed("PullRequest", code="invalid", field="merge_method")
    commit = ops.merge_pull(
        ctx.store,
        repo,
        pull,
        power=ctx.power,
        method=method,
        expected_sha=body.get("sha"),
        title=body.get("commit_title"),
        message=body.get("commit_message"),
    )
    return Response(200, {"sha": commit.sha, "merged": True, "message": "Pull Request successfully merged"})


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)/merge")
def is_merged(ctx: Ctx, g: dict[str, str]) -> Response:
    pull = pull_of(repo_of(ctx, g), g["number"])
    if not pull.merged:
        raise not_found()
    return Response(204)


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)/files")
def pull_files(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    pull = pull_of(repo, g["number"])
    head = ctx.store.head_sha(repo, pull)
    base = repo.branch_sha(pull.base_ref) or head
    merge_base = repo.git.merge_base(head, base)
    before = repo.files_at(merge_base) if merge_base else {}
    after = repo.files_at(head)
    changes = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            status = "added" if path not in before else "removed" if path not in after else "modified"
            changes.append((path, status))
    return paginate(ctx, changes, lambda c: file_json(ctx, repo, head, c[0], c[1]))


def _review_request_names(body: Json) -> tuple[list[str], list[str]]:
    """`reviewers` and `team_reviewers` of a review-request body, refused as GitHub's schema check refuses them."""
    if "reviewers" not in body and "team_reviewers" not in body:
        raise ApiError(
            422,
            'Invalid request.\n\nNo subschema in "anyOf" matched.\n"reviewers" wasn\'t supplied.\n'
            '"team_reviewers" wasn\'t supplied.',
        )
    found: list[list[str]] = []
    for key in ("reviewers", "team_reviewers"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError(422, f"Invalid request.\n\nFor 'properties/{key}', {value!r} is not an array of strings.")
        found.append([str(v) for v in value])
    return found[0], found[1]


def _add_unique(current: list[str], names: list[str]) -> None:
    for name in names:
        if name.lower() not in (c.lower() for c in current):
            current.append(name)


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)/requested_reviewers")
def list_review_requests(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    pull = pull_of(repo, g["number"])
    data = shapes.pull_request(ctx.base, ctx.store, repo, pull)
    return Response(200, {"users": data["requested_reviewers"], "teams": data["requested_teams"]})


@route("POST", "{repo}/pulls/(?P<number>[0-9]+)/requested_reviewers")
def request_reviewers(ctx: Ctx, g: dict[str, str]) -> Response:
    """Users need not exist in the sandbox (GitHub would insist on collaborators); teams are slugs of the org."""
    repo = writable(ctx, g)
    pull = pull_of(repo, g["number"])
    users, teams = _review_request_names(ctx.body())
    if any(u.lower() == pull.user.lower() for u in users):
        raise ApiError(422, "Review cannot be requested from pull request author.")
    _add_unique(pull.requested_reviewers, users)
    _add_unique(pull.requested_teams, teams)
    pull.updated_at = ctx.store.clock()
    data = shapes.pull_request(ctx.base, ctx.store, repo, pull)
    return created(data, data["url"])


@route("DELETE", "{repo}/pulls/(?P<number>[0-9]+)/requested_reviewers")
def remove_review_requests(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = pull_of(repo, g["number"])
    users, teams = _review_request_names(ctx.body())
    gone_users, gone_teams = {u.lower() for u in users}, {t.lower() for t in teams}
    pull.requested_reviewers = [u for u in pull.requested_reviewers if u.lower() not in gone_users]
    pull.requested_teams = [t for t in pull.requested_teams if t.lower() not in gone_teams]
    pull.updated_at = ctx.store.clock()
    return Response(200, shapes.pull_request(ctx.base, ctx.store, repo, pull))


# ---------------------------------------------------------------- issues: comments and labels


def _issue(repo: Repo, number: str) -> PullRequest:
    # Only pull requests exist in the sandbox; an issue number that is not one is unknown.
    return pull_of(repo, number)


@route("GET", "{repo}/issues/(?P<number>[0-9]+)")
def get_issue(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return Response(200, shapes.issue(ctx.base, ctx.store, repo, _issue(repo, g["number"])))


@route("GET", "{repo}/issues/(?P<number>[0-9]+)/comments")
def list_comments(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    number = _issue(repo, g["number"]).number
    comments = [c for c in repo.comments if c.issue_number == number]
    return paginate(ctx, comments, lambda c: shapes.issue_comment(ctx.base, repo, c))


@route("POST", "{repo}/issues/(?P<number>[0-9]+)/comments")
def create_comment(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = _issue(repo, g["number"])
    text = ctx.body().get("body")
    if not isinstance(text, str) or not text:
        raise validation_failed("IssueComment", code="missing_field", field="body")
    data = shapes.issue_comment(ctx.base, repo, ctx.store.add_comment(repo, pull.number, text))
    return created(data, data["url"])


def _label_names(raw: Any) -> list[str]:
    names = raw.get("labels", []) if isinstance(raw, dict) else raw
    if not isinstance(names, list):
        raise validation_failed("Label", code="invalid", field="labels")
    return [str(n["name"]) if isinstance(n, dict) else str(n) for n in names]


def _issue_labels(ctx: Ctx, repo: Repo, pull: PullRequest) -> Response:
    return Response(200, [shapes.label(ctx.base, repo, ctx.store.label(repo, n)) for n in pull.labels])


@route("GET", "{repo}/issues/(?P<number>[0-9]+)/labels")
def list_issue_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return _issue_labels(ctx, repo, _issue(repo, g["number"]))


@route("POST", "{repo}/issues/(?P<number>[0-9]+)/labels")
def add_issue_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = _issue(repo, g["number"])
    for name in _label_names(ctx.request.json()):
        existing = ctx.store.label(repo, name).name
        if existing.lower() not in (n.lower() for n in pull.labels):
            pull.labels.append(existing)
    return _issue_labels(ctx, repo, pull)


@route("PUT", "{repo}/issues/(?P<number>[0-9]+)/labels")
def set_issue_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = _issue(repo, g["number"])
    pull.labels = list(dict.fromkeys(ctx.store.label(repo, n).name for n in _label_names(ctx.request.json())))
    return _issue_labels(ctx, repo, pull)


@route("DELETE", "{repo}/issues/(?P<number>[0-9]+)/labels/(?P<name>.+)")
def remove_issue_label(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    pull = _issue(repo, g["number"])
    kept = [n for n in pull.labels if n.lower() != g["name"].lower()]
    if len(kept) == len(pull.labels):
        raise ApiError(404, "Label does not exist")
    pull.labels = kept
    return _issue_labels(ctx, repo, pull)


@route("GET", "{repo}/labels")
def list_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return paginate(ctx, list(repo.labels.values()), lambda item: shapes.label(ctx.base, repo, item))


@route("GET", "{repo}/labels/(?P<name>.+)")
def get_label(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    item = repo.labels.get(g["name"].lower())
    if item is None:
        raise not_found()
    return Response(200, shapes.label(ctx.base, repo, item))


@route("POST", "{repo}/labels")
def create_label(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise validation_failed("Label", code="missing_field", field="name")
    color = str(body.get("color", "ededed")).lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
        raise validation_failed(
            "Label",
            code="invalid",
            field="color",
            documentation_url="https://docs.github.com/rest/reference/issues#create-a-label",
        )
    if name.lower() in repo.labels:
        raise validation_failed("Label", code="already_exists", field="name")
    item = Label(ctx.store.next_id("label"), name, color, body.get("description"))
    repo.labels[name.lower()] = item
    data = shapes.label(ctx.base, repo, item)
    return created(data, data["url"])
