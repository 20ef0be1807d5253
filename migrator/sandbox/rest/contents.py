"""The contents API: read, create, update and delete files."""

from __future__ import annotations

from typing import Any

from migrator.sandbox import ops, shapes
from migrator.sandbox.git import FileEntry
from migrator.sandbox.http import ApiError, Response, not_found
from migrator.sandbox.rest.core import (
    Ctx,
    Json,
    decode_b64,
    repo_of,
    route,
    writable,
)
from migrator.sandbox.store import (
    HEADS,
    Repo,
)

# ---------------------------------------------------------------- contents

CONTENTS_DOCS = "https://docs.github.com/rest/repos/contents#get-repository-content"

MAX_CONTENT_BYTES = 1_000_000


@route("GET", "{repo}/contents(?:/(?P<path>.*))?")
def get_contents(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    if repo.is_empty:
        raise ApiError(404, "This repository is empty.", documentation_url=CONTENTS_DOCS)
    ref = ctx.request.param("ref") or repo.default_branch
    sha = repo.resolve_commitish(ref)
    if sha is None:
        raise ApiError(404, f"No commit found for the ref {ref}", documentation_url=CONTENTS_DOCS)
    path = g.get("path", "").strip("/")
    entry = repo.git.lookup_path(repo.commit(sha).tree, path)
    if entry is None:
        raise not_found(CONTENTS_DOCS)
    if entry.kind == "tree":
        listing = []
        for child in repo.git.trees[entry.sha]:
            child_path = f"{path}/{child.name}" if path else child.name
            size = len(repo.git.blobs[child.sha]) if child.kind == "blob" else 0
            listing.append(shapes.content_entry(ctx.base, repo, child_path, child, size=size, ref=ref))
        return Response(200, listing)
    data = repo.git.blobs[entry.sha]
    if "raw" in ctx.request.headers.get("accept", ""):
        return Response(200, data, {"Content-Type": "application/vnd.github.raw; charset=utf-8"})
    body = shapes.content_entry(ctx.base, repo, path, entry, size=len(data), ref=ref)
    too_big = len(data) > MAX_CONTENT_BYTES
    body["content"] = "" if too_big else shapes.b64_lines(data)
    body["encoding"] = "none" if too_big else "base64"
    return Response(200, body)


def _contents_target(ctx: Ctx, repo: Repo, body: Json) -> tuple[str, str | None]:
    """The branch a contents write goes to, and its head (None for the first commit of an empty repo)."""
    branch = str(body.get("branch") or repo.default_branch)
    head = repo.branch_sha(branch)
    if head is None and not repo.is_empty:
        raise ApiError(404, f"Branch {branch} not found", documentation_url=CONTENTS_DOCS)
    return branch, head


def _require_message(body: Json) -> str:
    message = body.get("message")
    if not isinstance(message, str) or not message:
        raise ApiError(422, 'Invalid request.\n\n"message" wasn\'t supplied.')
    return message


def _check_sha(path: str, current: FileEntry | None, given: Any) -> None:
    if current is None:
        return
    if not given:
        raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    if given != current.sha:
        raise ApiError(409, f"{path} does not match {given}")


def _content_write(ctx: Ctx, g: dict[str, str], *, delete: bool) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    path = g["path"].strip("/")
    message = _require_message(body)
    data = None if delete else decode_b64(body.get("content"), "content")
    branch, head = _contents_target(ctx, repo, body)
    current = repo.files_at(head).get(path) if head else None
    if delete and current is None:
        raise not_found(CONTENTS_DOCS)
    _check_sha(path, current, body.get("sha"))
    ops.require_workflow_power(ctx.power, [path])
    message_409 = "Changes must be made through a pull request."
    ops.require_direct_push(repo, branch, ctx.power, status=409, message=message_409, store=ctx.store)
    commit = ctx.store.commit_changes(repo, parent=head, changes={path: data}, message=message)
    repo.refs[HEADS + branch] = commit.sha
    repo.pushed_at = ctx.store.clock()
    result: Json = {"content": None, "commit": shapes.git_commit(ctx.base, repo, commit)}
    if data is not None:
        entry = repo.git.lookup_path(commit.tree, path)
        assert entry is not None
        result["content"] = shapes.content_entry(ctx.base, repo, path, entry, size=len(data), ref=branch)
    return Response(200 if delete or current else 201, result)


@route("PUT", "{repo}/contents/(?P<path>.+)")
def put_contents(ctx: Ctx, g: dict[str, str]) -> Response:
    return _content_write(ctx, g, delete=False)


@route("DELETE", "{repo}/contents/(?P<path>.+)")
def delete_contents(ctx: Ctx, g: dict[str, str]) -> Response:
    return _content_write(ctx, g, delete=True)
