"""Plain issues (GitHub's REST reference, "Issues": create, get, update), for `report --tracking-issue`.

Numbers are shared with pull requests, as on GitHub. Issues are kept per store beside it (the store itself has
only pull requests); `GET …/issues/N` of a pull request's number answers as before, from the pull request.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from migrator.sandbox import shapes
from migrator.sandbox.http import Response, not_found, validation_failed
from migrator.sandbox.rest.core import Ctx, Json, created, repo_of, route, writable
from migrator.sandbox.store import Repo, Store, node_id


@dataclass
class Issue:
    number: int
    title: str
    body: str
    created_at: float
    updated_at: float
    state: str = "open"


_ISSUES: weakref.WeakKeyDictionary[Store, dict[str, dict[int, Issue]]] = weakref.WeakKeyDictionary()


def _of(ctx: Ctx, repo: Repo) -> dict[int, Issue]:
    return _ISSUES.setdefault(ctx.store, {}).setdefault(repo.full_name, {})


def issue_json(ctx: Ctx, repo: Repo, issue: Issue) -> Json:
    url = f"{ctx.base}/repos/{repo.full_name}/issues/{issue.number}"
    return {
        "url": url,
        "repository_url": f"{ctx.base}/repos/{repo.full_name}",
        "html_url": f"{shapes.web_root(ctx.base)}/{repo.full_name}/issues/{issue.number}",
        "id": 900_000 + issue.number,
        "node_id": node_id("Issue", f"{repo.full_name}:{issue.number}"),
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "user": shapes.user(ctx.base),
        "labels": [],
        "comments": 0,
        "created_at": shapes.iso(issue.created_at),
        "updated_at": shapes.iso(issue.updated_at),
        "closed_at": None,
        "author_association": "MEMBER",
    }


@route("POST", "{repo}/issues")
def create_issue(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    title = body.get("title")
    if not isinstance(title, str) or not title:
        raise validation_failed("Issue", code="missing_field", field="title")
    now = ctx.store.clock()
    issue = Issue(repo.next_number, title, str(body.get("body") or ""), now, now)
    repo.next_number += 1
    _of(ctx, repo)[issue.number] = issue
    data = issue_json(ctx, repo, issue)
    return created(data, data["url"])


@route("GET", "{repo}/issues/(?P<number>[0-9]+)")
def get_issue(ctx: Ctx, g: dict[str, str]) -> Response:
    from migrator.sandbox.rest import pulls  # here, so that this module's routes register before pulls'

    repo = repo_of(ctx, g)
    issue = _of(ctx, repo).get(int(g["number"]))
    return Response(200, issue_json(ctx, repo, issue)) if issue else pulls.get_issue(ctx, g)


@route("PATCH", "{repo}/issues/(?P<number>[0-9]+)")
def update_issue(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    issue = _of(ctx, repo).get(int(g["number"]))
    if issue is None:
        raise not_found()
    body = ctx.body()
    for key in ("title", "body", "state"):
        if isinstance(body.get(key), str):
            setattr(issue, key, body[key])
    issue.updated_at = ctx.store.clock()
    return Response(200, issue_json(ctx, repo, issue))
