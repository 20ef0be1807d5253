"""Git refs, blobs, trees and commits, and the commits API."""

from __future__ import annotations

from typing import Any

from migrator.sandbox import ops, shapes
from migrator.sandbox.git import TREE_MODE, FileEntry, valid_ref_name
from migrator.sandbox.http import ApiError, Response, not_found, validation_failed
from migrator.sandbox.rest.core import (
    Ctx,
    Json,
    created,
    decode_b64,
    non_empty,
    paginate,
    repo_of,
    route,
    writable,
)
from migrator.sandbox.store import (
    HEADS,
    Repo,
)

# ---------------------------------------------------------------- refs

REFS_DOCS = "https://docs.github.com/rest/git/refs#get-a-reference"


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else "refs/" + ref


@route("GET", "{repo}/git/ref/(?P<ref>.+)")
def get_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    non_empty(repo)
    name = _full_ref(g["ref"])
    if name not in repo.refs:
        raise not_found(REFS_DOCS)
    return Response(200, shapes.ref(ctx.base, repo, name, repo.refs[name]))


@route("GET", "{repo}/git/refs(?:/(?P<ref>.+))?")
def list_refs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    non_empty(repo)
    prefix = _full_ref(g["ref"]) if g.get("ref") else "refs/"
    if prefix in repo.refs:
        return Response(200, shapes.ref(ctx.base, repo, prefix, repo.refs[prefix]))
    names = sorted(n for n in repo.refs if n.startswith(prefix.rstrip("/") + "/"))
    if not names and g.get("ref"):
        raise not_found(REFS_DOCS)
    return paginate(ctx, names, lambda n: shapes.ref(ctx.base, repo, n, repo.refs[n]))


@route("GET", "{repo}/git/matching-refs/(?P<ref>.*)")
def matching_refs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    prefix = _full_ref(g["ref"])
    names = sorted(n for n in repo.refs if n.startswith(prefix))
    return paginate(ctx, names, lambda n: shapes.ref(ctx.base, repo, n, repo.refs[n]))


def _branch_of(ref: str) -> str | None:
    return ref[len(HEADS) :] if ref.startswith(HEADS) else None


@route("POST", "{repo}/git/refs")
def create_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    name, sha = str(body.get("ref") or ""), str(body.get("sha") or "")
    if not name.startswith("refs/") or name.count("/") < 2 or not valid_ref_name(name):
        raise ApiError(422, "Reference name is invalid")
    if repo.git.kind(sha) is None:
        raise ApiError(422, "Object does not exist")
    if name in repo.refs:
        raise ApiError(422, "Reference already exists")
    ops.require_workflow_power(ctx.power, ops.new_changes(repo, sha))
    repo.refs[name] = sha
    data = shapes.ref(ctx.base, repo, name, sha)
    return created(data, data["url"])


@route("PATCH", "{repo}/git/refs/(?P<ref>.+)")
def update_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    name, sha = _full_ref(g["ref"]), str(body.get("sha") or "")
    if name not in repo.refs:
        raise ApiError(422, "Reference does not exist")
    if sha not in repo.git.commits:
        raise ApiError(422, "Object does not exist")
    if not body.get("force") and not repo.git.is_ancestor(repo.refs[name], sha):
        raise ApiError(422, "Update is not a fast forward")
    branch = _branch_of(name)
    if branch is not None:
        ops.require_direct_push(
            repo, branch, ctx.power, status=422, message=f"Protected branch update failed for {name}.", store=ctx.store
        )
    ops.require_workflow_power(ctx.power, ops.new_changes(repo, sha))
    repo.refs[name] = sha
    repo.pushed_at = ctx.store.clock()
    return Response(200, shapes.ref(ctx.base, repo, name, sha))


@route("DELETE", "{repo}/git/refs/(?P<ref>.+)")
def delete_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    name = _full_ref(g["ref"])
    if name not in repo.refs:
        raise ApiError(422, "Reference does not exist")
    branch = _branch_of(name)
    if branch is not None and repo.protection_for(branch) is not None:
        raise ApiError(422, f"Cannot delete a protected branch: {name}")
    del repo.refs[name]
    return Response(204)


# ---------------------------------------------------------------- git objects


@route("POST", "{repo}/git/blobs")
def create_blob(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    content = body.get("content")
    if not isinstance(content, str):
        raise validation_failed("Blob", code="missing_field", field="content")
    data = decode_b64(content, "content") if body.get("encoding") == "base64" else content.encode()
    sha = repo.git.put_blob(data)
    url = f"{ctx.base}/repos/{repo.full_name}/git/blobs/{sha}"
    return created({"sha": sha, "url": url}, url)


@route("GET", "{repo}/git/blobs/(?P<sha>[0-9a-fA-F]+)")
def get_blob(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = g["sha"].lower()
    if sha not in repo.git.blobs:
        raise not_found()
    return Response(200, shapes.blob(ctx.base, repo, sha, repo.git.blobs[sha]))


def _tree_changes(repo: Repo, items: Any) -> dict[str, FileEntry | None]:
    if not isinstance(items, list):
        raise validation_failed("Tree", code="missing_field", field="tree")
    changes: dict[str, FileEntry | None] = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("path"):
            raise ApiError(422, "Invalid tree info")
        path, mode = str(item["path"]).strip("/"), str(item.get("mode", "100644"))
        if "content" in item and item["content"] is not None:
            changes[path] = FileEntry(repo.git.put_blob(str(item["content"]).encode()), mode)
        elif item.get("sha") is None:
            changes[path] = None
        elif mode in (TREE_MODE, "40000") or item.get("type") == "tree":
            sha = str(item["sha"])
            if sha not in repo.git.trees:
                raise ApiError(422, "Invalid tree info")
            for sub, entry in repo.git.flatten(sha).items():
                changes[f"{path}/{sub}"] = entry
        else:
            sha = str(item["sha"])
            if sha not in repo.git.blobs:
                raise ApiError(422, "Invalid tree info")
            changes[path] = FileEntry(sha, mode)
    return changes


@route("POST", "{repo}/git/trees")
def create_tree(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    files: dict[str, FileEntry] = {}
    if body.get("base_tree"):
        if body["base_tree"] not in repo.git.trees:
            raise ApiError(422, "base_tree is not a valid tree oid")
        files = repo.git.flatten(body["base_tree"])
    for path, entry in _tree_changes(repo, body.get("tree")).items():
        if entry is None:
            files = {p: e for p, e in files.items() if p != path and not p.startswith(path + "/")}
        else:
            files[path] = entry
    sha = repo.git.build_tree(files)
    data = shapes.tree(ctx.base, repo, sha, recursive=False)
    return created(data, data["url"])


@route("GET", "{repo}/git/trees/(?P<ref>[^/]+)")
def get_tree(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = g["ref"]
    if sha not in repo.git.trees:
        commit = repo.resolve_commitish(sha)
        if commit is None:
            raise not_found()
        sha = repo.commit(commit).tree
    recursive = ctx.request.param("recursive") not in (None, "", "0", "false")
    return Response(200, shapes.tree(ctx.base, repo, sha, recursive=recursive))


def _signature(ctx: Ctx, raw: Any) -> Any:
    from migrator.sandbox.git import Signature

    default = ctx.store.signature()
    if not isinstance(raw, dict):
        return default
    return Signature(str(raw.get("name", default.name)), str(raw.get("email", default.email)), default.timestamp)


@route("POST", "{repo}/git/commits")
def create_commit(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    tree, parents = str(body.get("tree") or ""), body.get("parents") or []
    if not isinstance(body.get("message"), str):
        raise validation_failed("Commit", code="missing_field", field="message")
    if tree not in repo.git.trees:
        raise ApiError(422, "Tree SHA does not exist")
    if not isinstance(parents, list) or any(p not in repo.git.commits for p in parents):
        raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    author = _signature(ctx, body.get("author"))
    committer = _signature(ctx, body.get("committer")) if body.get("committer") else author
    commit = repo.git.put_commit(
        tree=tree, parents=tuple(parents), author=author, committer=committer, message=body["message"]
    )
    data = shapes.git_commit(ctx.base, repo, commit)
    return created(data, data["url"])


@route("GET", "{repo}/git/commits/(?P<sha>[0-9a-fA-F]+)")
def get_git_commit(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = g["sha"].lower()
    if sha not in repo.git.commits:
        raise not_found()
    return Response(200, shapes.git_commit(ctx.base, repo, repo.commit(sha)))


@route("GET", "{repo}/commits")
def list_commits(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    non_empty(repo)
    start = ctx.request.param("sha") or repo.default_branch
    head = repo.resolve_commitish(start)
    if head is None:
        raise not_found()
    history = repo.git.ancestors(head)
    path = ctx.request.param("path")
    if path:
        history = [sha for sha in history if path in changed_paths(repo, sha)]
    return paginate(ctx, history, lambda sha: shapes.full_commit(ctx.base, repo, repo.commit(sha)))


def changed_paths(repo: Repo, sha: str) -> dict[str, str]:
    commit = repo.commit(sha)
    before = repo.files_at(commit.parents[0]) if commit.parents else {}
    after = repo.files_at(sha)
    changes: dict[str, str] = {}
    for path in sorted(set(before) | set(after)):
        if path not in before:
            changes[path] = "added"
        elif path not in after:
            changes[path] = "removed"
        elif before[path] != after[path]:
            changes[path] = "modified"
    return changes


def file_json(ctx: Ctx, repo: Repo, sha: str, path: str, status: str) -> Json:
    entry = repo.files_at(sha).get(path)
    url = f"{ctx.base}/repos/{repo.full_name}"
    return {
        "sha": entry.sha if entry else None,
        "filename": path,
        "status": status,
        "additions": 0,
        "deletions": 0,
        "changes": 0,
        "blob_url": f"{shapes.web_root(ctx.base)}/{repo.full_name}/blob/{sha}/{path}",
        "raw_url": f"{shapes.web_root(ctx.base)}/{repo.full_name}/raw/{sha}/{path}",
        "contents_url": f"{url}/contents/{path}?ref={sha}",
    }


@route("GET", "{repo}/commits/(?P<ref>(?!.*/(?:statuses|status|check-runs|check-suites)$).+)")
def get_commit(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = repo.resolve_commitish(g["ref"])
    if sha is None:
        non_empty(repo)
        raise ApiError(422, f"No commit found for SHA: {g['ref']}")
    data = shapes.full_commit(ctx.base, repo, repo.commit(sha))
    changes = changed_paths(repo, sha)
    data["stats"] = {"total": 0, "additions": 0, "deletions": 0}
    data["files"] = [file_json(ctx, repo, sha, p, s) for p, s in changes.items()]
    return Response(200, data)
