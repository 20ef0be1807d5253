"""GitHub's REST endpoints that migrator (and PyGithub) use, answered from the store."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import unquote, urlencode

from migrator.sandbox import ops, shapes
from migrator.sandbox.git import TREE_MODE, FileEntry
from migrator.sandbox.http import ApiError, Request, Response, not_found, validation_failed
from migrator.sandbox.limits import Limits
from migrator.sandbox.ops import OpError
from migrator.sandbox.seed import parse_protection
from migrator.sandbox.settings import Settings
from migrator.sandbox.store import (
    HEADS,
    CheckRun,
    InstallationToken,
    Label,
    Power,
    PullRequest,
    Repo,
    Status,
    Store,
)

T = TypeVar("T")
Json = dict[str, Any]
CONTENTS_DOCS = "https://docs.github.com/rest/repos/contents#get-repository-content"
REFS_DOCS = "https://docs.github.com/rest/git/refs#get-a-reference"
PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection#get-branch-protection"
MAX_CONTENT_BYTES = 1_000_000
CHECK_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
    "startup_failure",
)


@dataclass(frozen=True)
class Ctx:
    store: Store
    settings: Settings
    limits: Limits
    request: Request
    token: str
    power: Power
    limit_key: str = ""  # whose rate-limit budget the request spends (an installation's, for its tokens)

    @property
    def base(self) -> str:
        """Where REST lives for this client (with /api/v3 when it came that way): every URL handed out."""
        return self.request.api_base

    @property
    def installation_token(self) -> InstallationToken | None:
        return self.store.installation_tokens.get(self.token)

    def body(self) -> Json:
        return self.request.json_object()


Handler = Callable[[Ctx, dict[str, str]], Response]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    compiled = re.compile("^" + pattern.replace("{repo}", _REPO) + "/?$")

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, compiled, handler))
        return handler

    return register


def dispatch(ctx: Ctx) -> Response:
    """Run the first route matching method and path; GitHub answers 404 for anything else, even a known
    path with an unsupported method."""
    for method, pattern, handler in _ROUTES:
        match = pattern.match(ctx.request.path)
        if match is None or method != ctx.request.method:
            continue
        groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        try:
            return handler(ctx, groups)
        except OpError as error:
            if error.rest_errors is not None:
                raise ApiError(422, "Validation Failed", errors=error.rest_errors) from error
            raise ApiError(error.status, error.rest_message or error.message) from error
    raise not_found()


# ---------------------------------------------------------------- helpers


def paginate(ctx: Ctx, items: Sequence[T], render: Callable[[T], Any], *, key: str | None = None) -> Response:
    per_page = _int(ctx.request.param("per_page"), ctx.settings.default_per_page)
    per_page = min(max(per_page, 1), ctx.settings.max_per_page)
    page = max(_int(ctx.request.param("page"), 1), 1)
    last = max(math.ceil(len(items) / per_page), 1)
    chunk = [render(item) for item in items[(page - 1) * per_page : page * per_page]]
    body: Any = chunk if key is None else {"total_count": len(items), key: chunk}
    links = _link_header(ctx, page, last)
    return Response(200, body, {"Link": links} if links else {})


def _link_header(ctx: Ctx, page: int, last: int) -> str:
    def url(number: int) -> str:
        params = [(k, v) for k, v in ctx.request.query if k != "page"] + [("page", str(number))]
        return f"{ctx.base}{ctx.request.path}?{urlencode(params)}"  # ctx.base keeps a GHES /api/v3

    rels: list[tuple[str, int]] = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    return ", ".join(f'<{url(n)}>; rel="{rel}"' for rel, n in rels)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _repo(ctx: Ctx, g: dict[str, str]) -> Repo:
    repo = ctx.store.repo(g["owner"], g["repo"])
    if repo is None:
        raise not_found()
    return repo


def _writable(ctx: Ctx, g: dict[str, str]) -> Repo:
    repo = _repo(ctx, g)
    ops.require_write(repo, ctx.power)
    return repo


def _require_admin(ctx: Ctx) -> None:
    if not ctx.power.is_admin:
        raise ApiError(403, ops.not_accessible())


def _non_empty(repo: Repo) -> None:
    if repo.is_empty:
        raise ApiError(409, "Git Repository is empty.")


def _commit_sha(repo: Repo, ref: str) -> str:
    sha = repo.resolve_commitish(ref)
    if sha is None:
        _non_empty(repo)
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def _pull(repo: Repo, number: str) -> PullRequest:
    pull = repo.pulls.get(_int(number, 0))
    if pull is None:
        raise not_found()
    return pull


def _decode_b64(text: Any, field: str) -> bytes:
    if not isinstance(text, str):
        raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
    try:
        return base64.b64decode(text.encode(), validate=False)
    except (binascii.Error, ValueError) as error:
        raise ApiError(422, f"{field} is not valid Base64") from error


def _created(body: Any, location: str) -> Response:
    return Response(201, body, {"Location": location})


# ---------------------------------------------------------------- users, orgs, repos


@route("GET", "/user")
def get_user(ctx: Ctx, g: dict[str, str]) -> Response:
    if ctx.installation_token is not None:  # an installation acts as no user
        raise ApiError(403, "Resource not accessible by integration")
    data = shapes.user(ctx.base)
    data.update(
        {
            "name": "Sandbox User",
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": shapes.iso(1704067200),
            "updated_at": shapes.iso(1704067200),
        }
    )
    return Response(200, data)


@route("GET", "/orgs/(?P<org>[^/]+)")
def get_org(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    return Response(200, shapes.organization(ctx.base, org))


@route("GET", "/orgs/(?P<org>[^/]+)/repos")
def list_org_repos(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    kind = ctx.request.param("type", "all")
    repos = [r for r in org.repos.values() if _repo_matches(r, kind or "all")]
    sort = ctx.request.param("sort", "created")
    if sort == "full_name":
        repos.sort(key=lambda r: r.name.lower())
    else:  # created, updated and pushed all follow creation order in the sandbox
        repos.sort(key=lambda r: (r.created_at, r.id))
    direction = ctx.request.param("direction") or ("asc" if sort == "full_name" else "desc")
    if direction == "desc":
        repos.reverse()
    return paginate(
        ctx, repos, lambda r: shapes.repository(ctx.base, ctx.store, r, full=False, admin=ctx.power.is_admin)
    )


def _repo_matches(repo: Repo, kind: str) -> bool:
    return {
        "public": repo.meta.visibility == "public",
        "private": repo.meta.visibility != "public",
        "forks": repo.meta.fork,
        "sources": not repo.meta.fork,
    }.get(kind, True)


@route("GET", "{repo}")
def get_repo(ctx: Ctx, g: dict[str, str]) -> Response:
    return Response(200, shapes.repository(ctx.base, ctx.store, _repo(ctx, g), admin=ctx.power.is_admin))


@route("GET", "{repo}/topics")
def get_topics(ctx: Ctx, g: dict[str, str]) -> Response:
    return Response(200, {"names": list(_repo(ctx, g).meta.topics)})


@route("GET", "/repositories/(?P<id>[0-9]+)")
def get_repo_by_id(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = ctx.store.repo_by_id(int(g["id"]))
    if repo is None:
        raise not_found()
    return Response(200, shapes.repository(ctx.base, ctx.store, repo, admin=ctx.power.is_admin))


# ---------------------------------------------------------------- installation tokens


def _installation_token(ctx: Ctx) -> InstallationToken:
    found = ctx.installation_token
    if found is None:
        raise ApiError(403, "This endpoint requires an installation access token")
    return found


@route("GET", "/installation/repositories")
def installation_repositories(ctx: Ctx, g: dict[str, str]) -> Response:
    installation = ctx.store.installations[_installation_token(ctx).installation_id]
    org = ctx.store.org(installation.account)
    repos = list(org.repos.values()) if org else []
    response = paginate(
        ctx, repos, lambda r: shapes.repository(ctx.base, ctx.store, r, full=False, admin=ctx.power.is_admin),
        key="repositories",
    )
    response.body["repository_selection"] = "all"
    return response


@route("DELETE", "/installation/token")
def revoke_installation_token(ctx: Ctx, g: dict[str, str]) -> Response:
    ctx.store.installation_tokens[ctx.token] = replace(_installation_token(ctx), revoked=True)
    return Response(204)


# ---------------------------------------------------------------- secrets


def _secret(name: str, visibility: str | None = None) -> Json:
    data: Json = {"name": name, "created_at": shapes.iso(1704067200), "updated_at": shapes.iso(1704067200)}
    if visibility:
        data["visibility"] = visibility
    return data


@route("GET", "{repo}/actions/secrets")
def list_repo_secrets(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return paginate(ctx, sorted(repo.meta.secrets), _secret, key="secrets")


@route("GET", "{repo}/actions/organization-secrets")
def list_repo_org_secrets(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    names = sorted(ctx.store.orgs[repo.org].secrets)
    return paginate(ctx, names, _secret, key="secrets")


@route("GET", "/orgs/(?P<org>[^/]+)/actions/secrets")
def list_org_secrets(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    return paginate(ctx, sorted(org.secrets), lambda n: _secret(n, "all"), key="secrets")


# ---------------------------------------------------------------- contents


@route("GET", "{repo}/contents(?:/(?P<path>.*))?")
def get_contents(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
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
    repo = _writable(ctx, g)
    body = ctx.body()
    path = g["path"].strip("/")
    message = _require_message(body)
    data = None if delete else _decode_b64(body.get("content"), "content")
    branch, head = _contents_target(ctx, repo, body)
    current = repo.files_at(head).get(path) if head else None
    if delete and current is None:
        raise not_found(CONTENTS_DOCS)
    _check_sha(path, current, body.get("sha"))
    ops.require_workflow_power(ctx.power, [path])
    ops.require_direct_push(repo, branch, ctx.power, status=409, message="Changes must be made through a pull request.")
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


# ---------------------------------------------------------------- refs


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else "refs/" + ref


@route("GET", "{repo}/git/ref/(?P<ref>.+)")
def get_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    _non_empty(repo)
    name = _full_ref(g["ref"])
    if name not in repo.refs:
        raise not_found(REFS_DOCS)
    return Response(200, shapes.ref(ctx.base, repo, name, repo.refs[name]))


@route("GET", "{repo}/git/refs(?:/(?P<ref>.+))?")
def list_refs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    _non_empty(repo)
    prefix = _full_ref(g["ref"]) if g.get("ref") else "refs/"
    if prefix in repo.refs:
        return Response(200, shapes.ref(ctx.base, repo, prefix, repo.refs[prefix]))
    names = sorted(n for n in repo.refs if n.startswith(prefix.rstrip("/") + "/"))
    if not names and g.get("ref"):
        raise not_found(REFS_DOCS)
    return paginate(ctx, names, lambda n: shapes.ref(ctx.base, repo, n, repo.refs[n]))


@route("GET", "{repo}/git/matching-refs/(?P<ref>.*)")
def matching_refs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    prefix = _full_ref(g["ref"])
    names = sorted(n for n in repo.refs if n.startswith(prefix))
    return paginate(ctx, names, lambda n: shapes.ref(ctx.base, repo, n, repo.refs[n]))


def _branch_of(ref: str) -> str | None:
    return ref[len(HEADS) :] if ref.startswith(HEADS) else None


@route("POST", "{repo}/git/refs")
def create_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    body = ctx.body()
    name, sha = str(body.get("ref") or ""), str(body.get("sha") or "")
    if not name.startswith("refs/") or name.count("/") < 2 or name.endswith("/"):
        raise ApiError(422, "Reference name is invalid")
    if repo.git.kind(sha) is None:
        raise ApiError(422, "Object does not exist")
    if name in repo.refs:
        raise ApiError(422, "Reference already exists")
    ops.require_workflow_power(ctx.power, ops.new_changes(repo, sha))
    repo.refs[name] = sha
    data = shapes.ref(ctx.base, repo, name, sha)
    return _created(data, data["url"])


@route("PATCH", "{repo}/git/refs/(?P<ref>.+)")
def update_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
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
            repo, branch, ctx.power, status=422, message=f"Protected branch update failed for {name}."
        )
    ops.require_workflow_power(ctx.power, ops.new_changes(repo, sha))
    repo.refs[name] = sha
    repo.pushed_at = ctx.store.clock()
    return Response(200, shapes.ref(ctx.base, repo, name, sha))


@route("DELETE", "{repo}/git/refs/(?P<ref>.+)")
def delete_ref(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
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
    repo = _writable(ctx, g)
    body = ctx.body()
    content = body.get("content")
    if not isinstance(content, str):
        raise validation_failed("Blob", code="missing_field", field="content")
    data = _decode_b64(content, "content") if body.get("encoding") == "base64" else content.encode()
    sha = repo.git.put_blob(data)
    url = f"{ctx.base}/repos/{repo.full_name}/git/blobs/{sha}"
    return _created({"sha": sha, "url": url}, url)


@route("GET", "{repo}/git/blobs/(?P<sha>[0-9a-fA-F]+)")
def get_blob(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
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
    repo = _writable(ctx, g)
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
    return _created(data, data["url"])


@route("GET", "{repo}/git/trees/(?P<ref>[^/]+)")
def get_tree(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
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
    repo = _writable(ctx, g)
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
    return _created(data, data["url"])


@route("GET", "{repo}/git/commits/(?P<sha>[0-9a-fA-F]+)")
def get_git_commit(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    sha = g["sha"].lower()
    if sha not in repo.git.commits:
        raise not_found()
    return Response(200, shapes.git_commit(ctx.base, repo, repo.commit(sha)))


@route("GET", "{repo}/commits")
def list_commits(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    _non_empty(repo)
    start = ctx.request.param("sha") or repo.default_branch
    head = repo.resolve_commitish(start)
    if head is None:
        raise not_found()
    history = repo.git.ancestors(head)
    path = ctx.request.param("path")
    if path:
        history = [sha for sha in history if path in _changed_paths(repo, sha)]
    return paginate(ctx, history, lambda sha: shapes.full_commit(ctx.base, repo, repo.commit(sha)))


def _changed_paths(repo: Repo, sha: str) -> dict[str, str]:
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


def _file_json(ctx: Ctx, repo: Repo, sha: str, path: str, status: str) -> Json:
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


@route("GET", "{repo}/commits/(?P<ref>(?!.*/(?:statuses|status|check-runs)$).+)")
def get_commit(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    sha = repo.resolve_commitish(g["ref"])
    if sha is None:
        _non_empty(repo)
        raise ApiError(422, f"No commit found for SHA: {g['ref']}")
    data = shapes.full_commit(ctx.base, repo, repo.commit(sha))
    changes = _changed_paths(repo, sha)
    data["stats"] = {"total": 0, "additions": 0, "deletions": 0}
    data["files"] = [_file_json(ctx, repo, sha, p, s) for p, s in changes.items()]
    return Response(200, data)


# ---------------------------------------------------------------- branches


@route("GET", "{repo}/branches")
def list_branches(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return paginate(
        ctx, repo.branches(), lambda b: shapes.branch(ctx.base, repo, b, repo.branch_sha(b) or "", detailed=False)
    )


def _branch(repo: Repo, name: str) -> str:
    sha = repo.branch_sha(name)
    if sha is None:
        raise ApiError(
            404, "Branch not found", documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch"
        )
    return sha


@route("GET", "{repo}/branches/(?P<branch>.+?)/protection")
def get_protection(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    _branch(repo, g["branch"])
    rule = repo.protection_for(g["branch"])
    if rule is None:
        raise ApiError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    return Response(200, shapes.protection(ctx.base, repo, g["branch"], rule))


@route("PUT", "{repo}/branches/(?P<branch>.+?)/protection")
def put_protection(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    _require_admin(ctx)
    _branch(repo, g["branch"])
    rule = parse_protection(ctx.body())
    ctx.store.set_protection(repo, g["branch"], rule)
    return Response(200, shapes.protection(ctx.base, repo, g["branch"], rule))


@route("DELETE", "{repo}/branches/(?P<branch>.+?)/protection")
def delete_protection(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    _require_admin(ctx)
    _branch(repo, g["branch"])
    if repo.protection_for(g["branch"]) is None:
        raise ApiError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    ctx.store.set_protection(repo, g["branch"], None)
    return Response(204)


@route("GET", "{repo}/branches/(?P<branch>.+)")
def get_branch(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    sha = _branch(repo, g["branch"])
    return Response(200, shapes.branch(ctx.base, repo, g["branch"], sha, detailed=True))


# ---------------------------------------------------------------- pulls


@route("GET", "{repo}/pulls")
def list_pulls(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
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
    repo = _writable(ctx, g)
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
    return _created(data, data["url"])


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)")
def get_pull(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return Response(200, shapes.pull_request(ctx.base, ctx.store, repo, _pull(repo, g["number"])))


@route("PATCH", "{repo}/pulls/(?P<number>[0-9]+)")
def update_pull(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    pull = _pull(repo, g["number"])
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
    repo = _writable(ctx, g)
    pull = _pull(repo, g["number"])
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
    pull = _pull(_repo(ctx, g), g["number"])
    if not pull.merged:
        raise not_found()
    return Response(204)


@route("GET", "{repo}/pulls/(?P<number>[0-9]+)/files")
def pull_files(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    pull = _pull(repo, g["number"])
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
    return paginate(ctx, changes, lambda c: _file_json(ctx, repo, head, c[0], c[1]))


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
    repo = _repo(ctx, g)
    pull = _pull(repo, g["number"])
    data = shapes.pull_request(ctx.base, ctx.store, repo, pull)
    return Response(200, {"users": data["requested_reviewers"], "teams": data["requested_teams"]})


@route("POST", "{repo}/pulls/(?P<number>[0-9]+)/requested_reviewers")
def request_reviewers(ctx: Ctx, g: dict[str, str]) -> Response:
    """Users need not exist in the sandbox (GitHub would insist on collaborators); teams are slugs of the org."""
    repo = _writable(ctx, g)
    pull = _pull(repo, g["number"])
    users, teams = _review_request_names(ctx.body())
    if any(u.lower() == pull.user.lower() for u in users):
        raise ApiError(422, "Review cannot be requested from pull request author.")
    _add_unique(pull.requested_reviewers, users)
    _add_unique(pull.requested_teams, teams)
    pull.updated_at = ctx.store.clock()
    data = shapes.pull_request(ctx.base, ctx.store, repo, pull)
    return _created(data, data["url"])


@route("DELETE", "{repo}/pulls/(?P<number>[0-9]+)/requested_reviewers")
def remove_review_requests(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    pull = _pull(repo, g["number"])
    users, teams = _review_request_names(ctx.body())
    gone_users, gone_teams = {u.lower() for u in users}, {t.lower() for t in teams}
    pull.requested_reviewers = [u for u in pull.requested_reviewers if u.lower() not in gone_users]
    pull.requested_teams = [t for t in pull.requested_teams if t.lower() not in gone_teams]
    pull.updated_at = ctx.store.clock()
    return Response(200, shapes.pull_request(ctx.base, ctx.store, repo, pull))


# ---------------------------------------------------------------- issues: comments and labels


def _issue(repo: Repo, number: str) -> PullRequest:
    # Only pull requests exist in the sandbox; an issue number that is not one is unknown.
    return _pull(repo, number)


@route("GET", "{repo}/issues/(?P<number>[0-9]+)")
def get_issue(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return Response(200, shapes.issue(ctx.base, ctx.store, repo, _issue(repo, g["number"])))


@route("GET", "{repo}/issues/(?P<number>[0-9]+)/comments")
def list_comments(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    number = _issue(repo, g["number"]).number
    comments = [c for c in repo.comments if c.issue_number == number]
    return paginate(ctx, comments, lambda c: shapes.issue_comment(ctx.base, repo, c))


@route("POST", "{repo}/issues/(?P<number>[0-9]+)/comments")
def create_comment(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    pull = _issue(repo, g["number"])
    text = ctx.body().get("body")
    if not isinstance(text, str) or not text:
        raise validation_failed("IssueComment", code="missing_field", field="body")
    data = shapes.issue_comment(ctx.base, repo, ctx.store.add_comment(repo, pull.number, text))
    return _created(data, data["url"])


def _label_names(raw: Any) -> list[str]:
    names = raw.get("labels", []) if isinstance(raw, dict) else raw
    if not isinstance(names, list):
        raise validation_failed("Label", code="invalid", field="labels")
    return [str(n["name"]) if isinstance(n, dict) else str(n) for n in names]


def _issue_labels(ctx: Ctx, repo: Repo, pull: PullRequest) -> Response:
    return Response(200, [shapes.label(ctx.base, repo, ctx.store.label(repo, n)) for n in pull.labels])


@route("GET", "{repo}/issues/(?P<number>[0-9]+)/labels")
def list_issue_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return _issue_labels(ctx, repo, _issue(repo, g["number"]))


@route("POST", "{repo}/issues/(?P<number>[0-9]+)/labels")
def add_issue_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    pull = _issue(repo, g["number"])
    for name in _label_names(ctx.request.json()):
        existing = ctx.store.label(repo, name).name
        if existing.lower() not in (n.lower() for n in pull.labels):
            pull.labels.append(existing)
    return _issue_labels(ctx, repo, pull)


@route("PUT", "{repo}/issues/(?P<number>[0-9]+)/labels")
def set_issue_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    pull = _issue(repo, g["number"])
    pull.labels = list(dict.fromkeys(ctx.store.label(repo, n).name for n in _label_names(ctx.request.json())))
    return _issue_labels(ctx, repo, pull)


@route("DELETE", "{repo}/issues/(?P<number>[0-9]+)/labels/(?P<name>.+)")
def remove_issue_label(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    pull = _issue(repo, g["number"])
    kept = [n for n in pull.labels if n.lower() != g["name"].lower()]
    if len(kept) == len(pull.labels):
        raise ApiError(404, "Label does not exist")
    pull.labels = kept
    return _issue_labels(ctx, repo, pull)


@route("GET", "{repo}/labels")
def list_labels(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return paginate(ctx, list(repo.labels.values()), lambda item: shapes.label(ctx.base, repo, item))


@route("GET", "{repo}/labels/(?P<name>.+)")
def get_label(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    item = repo.labels.get(g["name"].lower())
    if item is None:
        raise not_found()
    return Response(200, shapes.label(ctx.base, repo, item))


@route("POST", "{repo}/labels")
def create_label(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
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
    return _created(data, data["url"])


# ---------------------------------------------------------------- statuses and check runs


@route("POST", "{repo}/statuses/(?P<sha>[0-9a-fA-F]+)")
def create_status(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    body = ctx.body()
    sha = repo.resolve_commitish(g["sha"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {g['sha']}")
    state = body.get("state")
    if state not in ("error", "failure", "pending", "success"):
        raise validation_failed("Status", field="state", message="state is not included in the list")
    item = Status(
        ctx.store.next_id("status"),
        sha,
        str(state),
        str(body.get("context") or "default"),
        body.get("description"),
        body.get("target_url"),
        ctx.store.clock(),
    )
    repo.statuses.append(item)
    data = shapes.status(ctx.base, repo, item)
    return _created(data, data["url"])


def _statuses_for(ctx: Ctx, g: dict[str, str]) -> tuple[Repo, str, list[Status]]:
    repo = _repo(ctx, g)
    sha = _commit_sha(repo, g["ref"])
    return repo, sha, [s for s in reversed(repo.statuses) if s.sha == sha]


@route("GET", "{repo}/commits/(?P<ref>.+)/statuses")
def list_statuses(ctx: Ctx, g: dict[str, str]) -> Response:
    repo, _sha, statuses = _statuses_for(ctx, g)
    return paginate(ctx, statuses, lambda s: shapes.status(ctx.base, repo, s))


@route("GET", "{repo}/statuses/(?P<ref>.+)")
def list_statuses_legacy(ctx: Ctx, g: dict[str, str]) -> Response:
    return list_statuses(ctx, g)


@route("GET", "{repo}/commits/(?P<ref>.+)/status")
def combined_status(ctx: Ctx, g: dict[str, str]) -> Response:
    repo, sha, statuses = _statuses_for(ctx, g)
    latest: dict[str, Status] = {}
    for item in statuses:
        latest.setdefault(item.context, item)
    states = {s.state for s in latest.values()}
    state = (
        "failure" if states & {"failure", "error"} else "pending" if "pending" in states or not states else "success"
    )
    url = f"{ctx.base}/repos/{repo.full_name}"
    return Response(
        200,
        {
            "state": state,
            "statuses": [shapes.status(ctx.base, repo, s) for s in latest.values()],
            "sha": sha,
            "total_count": len(latest),
            "repository": shapes.repository(ctx.base, ctx.store, repo, full=False),
            "commit_url": f"{url}/commits/{sha}",
            "url": f"{url}/commits/{sha}/status",
        },
    )


def _check_run_from(ctx: Ctx, body: Json, existing: CheckRun | None, head_sha: str) -> CheckRun:
    now = ctx.store.clock()
    output = body.get("output") if isinstance(body.get("output"), dict) else {}
    assert isinstance(output, dict)
    conclusion = body.get("conclusion", existing.conclusion if existing else None)
    status = body.get("status") or ("completed" if conclusion else existing.status if existing else "queued")
    if status not in ("queued", "in_progress", "completed", "waiting", "requested", "pending"):
        raise validation_failed("CheckRun", code="invalid", field="status")
    if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
        raise validation_failed("CheckRun", code="invalid", field="conclusion")
    return CheckRun(
        id=existing.id if existing else ctx.store.next_id("check_run"),
        head_sha=head_sha,
        name=str(body.get("name") or (existing.name if existing else "")),
        status=str(status),
        conclusion=conclusion,
        started_at=existing.started_at if existing else now,
        completed_at=now if status == "completed" else None,
        details_url=body.get("details_url", existing.details_url if existing else None),
        external_id=str(body.get("external_id", existing.external_id if existing else "")),
        title=output.get("title", existing.title if existing else None),
        summary=output.get("summary", existing.summary if existing else None),
        text=output.get("text", existing.text if existing else None),
    )


@route("POST", "{repo}/check-runs")
def create_check_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    body = ctx.body()
    if not body.get("name"):
        raise validation_failed("CheckRun", code="missing_field", field="name")
    sha = repo.resolve_commitish(str(body.get("head_sha") or ""))
    if sha is None:
        raise validation_failed("CheckRun", code="invalid", field="head_sha")
    run = _check_run_from(ctx, body, None, sha)
    repo.check_runs[run.id] = run
    data = shapes.check_run(ctx.base, repo, run)
    return _created(data, data["url"])


def _check_run(repo: Repo, number: str) -> CheckRun:
    run = repo.check_runs.get(_int(number, 0))
    if run is None:
        raise not_found()
    return run


@route("GET", "{repo}/check-runs/(?P<id>[0-9]+)")
def get_check_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    return Response(200, shapes.check_run(ctx.base, repo, _check_run(repo, g["id"])))


@route("PATCH", "{repo}/check-runs/(?P<id>[0-9]+)")
def update_check_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _writable(ctx, g)
    existing = _check_run(repo, g["id"])
    run = _check_run_from(ctx, ctx.body(), existing, existing.head_sha)
    repo.check_runs[run.id] = run
    return Response(200, shapes.check_run(ctx.base, repo, run))


@route("GET", "{repo}/commits/(?P<ref>.+)/check-runs")
def list_check_runs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = _repo(ctx, g)
    sha = _commit_sha(repo, g["ref"])
    name, status = ctx.request.param("check_name"), ctx.request.param("status")
    runs = [
        r
        for r in repo.check_runs.values()
        if r.head_sha == sha and (not name or r.name == name) and (not status or r.status == status)
    ]
    return paginate(ctx, runs, lambda r: shapes.check_run(ctx.base, repo, r), key="check_runs")


# ---------------------------------------------------------------- rate limit


@route("GET", "/rate_limit")
def rate_limit(ctx: Ctx, g: dict[str, str]) -> Response:
    key = ctx.limit_key or ctx.token
    core = ctx.limits.budget(key, "core").as_json()
    graphql = ctx.limits.budget(key, "graphql").as_json()
    reset = core["reset"]
    other = {
        name: {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
        for name, limit in (
            ("search", 30),
            ("integration_manifest", 5000),
            ("source_import", 100),
            ("code_scanning_upload", 1000),
            ("actions_runner_registration", 10000),
            ("scim", 15000),
            ("dependency_snapshots", 100),
            ("code_search", 10),
        )
    }
    return Response(200, {"resources": {"core": core, "graphql": graphql, **other}, "rate": core})
