"""Pull request reviews, and the repository's merge settings (`PATCH /repos/{o}/{r}`: allow_squash_merge ...)."""

from __future__ import annotations

from dataclasses import replace

from migrator.sandbox import shapes
from migrator.sandbox.http import ApiError, Response, validation_failed
from migrator.sandbox.rest.core import Ctx, Json, paginate, pull_of, repo_of, require_admin, route, writable
from migrator.sandbox.store import PullRequest, Repo, Review, node_id

EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
SETTINGS = {"allow_merge_commit": "merge", "allow_squash_merge": "squash", "allow_rebase_merge": "rebase"}


def review_json(ctx: Ctx, repo: Repo, pull: PullRequest, review: Review) -> Json:
    html = f"{shapes.web_root(ctx.base)}/{repo.full_name}/pull/{pull.number}"
    pull_url = f"{ctx.base}/repos/{repo.full_name}/pulls/{pull.number}"
    return {
        "id": review.id,
        "node_id": node_id("PullRequestReview", f"{repo.full_name}:{review.id}"),
        "user": shapes.user(ctx.base, review.user, ctx.store.account_id("User", review.user)),
        "body": review.body,
        "state": review.state,
        "html_url": f"{html}#pullrequestreview-{review.id}",
        "pull_request_url": pull_url,
        "_links": {"html": {"href": f"{html}#pullrequestreview-{review.id}"}, "pull_request": {"href": pull_url}},
        "submitted_at": shapes.iso(review.submitted_at) if review.state != "PENDING" else None,
        "commit_id": review.commit_id,
        "author_association": "MEMBER",
    }


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)/reviews")
def list_reviews(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    pull = pull_of(repo, g["number"])
    return paginate(ctx, list(pull.reviews), lambda r: review_json(ctx, repo, pull, r))


@route("POST", "{repo}/pulls/(?P<number>[0-9]+)/reviews")
def create_review(ctx: Ctx, g: dict[str, str]) -> Response:
    """A review by the token's user. GitHub refuses an author's approval or change request of their own PR,
    and a change request or comment without a body."""
    repo = writable(ctx, g)
    pull = pull_of(repo, g["number"])
    body = ctx.body()
    event = body.get("event")
    text = str(body.get("body") or "")
    if event is not None and event not in EVENTS:
        raise validation_failed("PullRequestReview", code="invalid", field="event")
    login = ctx.store.login_of(ctx.token)
    if pull.state != "open" and event in ("APPROVE", "REQUEST_CHANGES"):
        raise ApiError(422, "Unprocessable Entity", errors=["Can not review a closed pull request"])
    if login.lower() == pull.user.lower() and event == "APPROVE":
        raise ApiError(422, "Unprocessable Entity", errors=["Can not approve your own pull request"])
    if login.lower() == pull.user.lower() and event == "REQUEST_CHANGES":
        raise ApiError(422, "Unprocessable Entity", errors=["Can not request changes on your own pull request"])
    if event in ("REQUEST_CHANGES", "COMMENT") and not text:
        raise ApiError(422, "Unprocessable Entity", errors=[f"Body is required when the event is {event}"])
    commit = str(body.get("commit_id") or ctx.store.head_sha(repo, pull))
    review = Review(
        ctx.store.next_id("review"), login, EVENTS[event] if event else "PENDING", text, commit, ctx.store.clock()
    )
    pull.reviews.append(review)
    pull.requested_reviewers = [u for u in pull.requested_reviewers if u.lower() != login.lower()]
    pull.updated_at = ctx.store.clock()
    return Response(200, review_json(ctx, repo, pull, review))


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)/reviews/(?P<review>[0-9]+)")
def get_review(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    pull = pull_of(repo, g["number"])
    found = next((r for r in pull.reviews if r.id == int(g["review"])), None)
    if found is None:
        raise ApiError(404, "Not Found")
    return Response(200, review_json(ctx, repo, pull, found))


@route("PATCH", "{repo}")
def update_repo(ctx: Ctx, g: dict[str, str]) -> Response:
    """The merge settings of a repository (the only settings the sandbox models); an admin's write."""
    repo = writable(ctx, g)
    require_admin(ctx)
    body = ctx.body()
    methods = list(repo.meta.merge_methods)
    for key, method in SETTINGS.items():
        if key in body:
            methods = [m for m in methods if m != method] + ([method] if body[key] else [])
    if not methods:
        raise validation_failed("Repository", message="Sorry, you need to allow at least one merge strategy.")
    order = [m for m in ("merge", "squash", "rebase") if m in methods]
    auto = bool(body.get("allow_auto_merge", repo.meta.allow_auto_merge))
    repo.meta = replace(repo.meta, merge_methods=tuple(order), allow_auto_merge=auto)
    return Response(200, shapes.repository(ctx.base, ctx.store, repo, admin=ctx.power.is_admin))
