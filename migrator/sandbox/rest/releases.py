"""Releases and tags (GitHub's REST reference, "Releases" and "List repository tags").

`releases/latest` is the most recent published release that is neither a draft nor a prerelease, by creation
date; tags list newest first by name order of their version, as GitHub sorts them.
"""

from __future__ import annotations

import re

from migrator.sandbox import shapes
from migrator.sandbox.actions.model import Release
from migrator.sandbox.http import Response, not_found
from migrator.sandbox.rest.actions import actor_json
from migrator.sandbox.rest.core import Ctx, Json, int_param, paginate, repo_of, route
from migrator.sandbox.store import Repo, node_id

TAGS = "refs/tags/"


def release_json(ctx: Ctx, repo: Repo, release: Release) -> Json:
    api = f"{ctx.base}/repos/{repo.full_name}"
    web = f"{shapes.web_root(ctx.base)}/{repo.full_name}"
    uploads = re.sub(r"//", "//uploads.", shapes.web_root(ctx.base), count=1)
    return {
        "url": f"{api}/releases/{release.id}",
        "assets_url": f"{api}/releases/{release.id}/assets",
        "upload_url": f"{uploads}/repos/{repo.full_name}/releases/{release.id}/assets{{?name,label}}",
        "html_url": f"{web}/releases/tag/{release.tag_name}",
        "id": release.id,
        "author": actor_json(ctx, release.author),
        "node_id": node_id("Release", f"{repo.full_name}:{release.id}"),
        "tag_name": release.tag_name,
        "target_commitish": release.target_commitish,
        "name": release.name,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "immutable": False,
        "created_at": shapes.iso(release.created_at),
        "updated_at": shapes.iso(release.created_at),
        "published_at": shapes.iso(release.published_at) if release.published_at is not None else None,
        "assets": [],
        "tarball_url": f"{api}/tarball/{release.tag_name}",
        "zipball_url": f"{api}/zipball/{release.tag_name}",
        "body": release.body,
    }


def _newest_first(repo: Repo) -> list[Release]:
    return sorted(repo.releases.values(), key=lambda r: (r.created_at, r.id), reverse=True)


def latest_release(repo: Repo) -> Release | None:
    return next((r for r in _newest_first(repo) if not r.draft and not r.prerelease), None)


@route("GET", "{repo}/releases")
def list_releases(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return paginate(ctx, _newest_first(repo), lambda r: release_json(ctx, repo, r))


@route("GET", "{repo}/releases/latest")
def get_latest_release(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    release = latest_release(repo)
    if release is None:
        raise not_found("https://docs.github.com/rest/releases/releases#get-the-latest-release")
    return Response(200, release_json(ctx, repo, release))


@route("GET", "{repo}/releases/tags/(?P<tag>.+)")
def get_release_by_tag(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    release = next((r for r in repo.releases.values() if r.tag_name == g["tag"]), None)
    if release is None:
        raise not_found()
    return Response(200, release_json(ctx, repo, release))


@route("GET", "{repo}/releases/(?P<id>[0-9]+)")
def get_release(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    release = repo.releases.get(int_param(g["id"], 0))
    if release is None:
        raise not_found()
    return Response(200, release_json(ctx, repo, release))


def tag_names(repo: Repo) -> list[str]:
    """Tag names newest first: version tags by version, descending, then the rest by name."""
    names = [ref[len(TAGS) :] for ref in repo.refs if ref.startswith(TAGS)]

    def key(name: str) -> tuple[int, tuple[int, ...], str]:
        match = re.fullmatch(r"v?(\d+(?:\.\d+)*)", name)
        return (0, tuple(-int(p) for p in match[1].split(".")), name) if match else (1, (), name)

    return sorted(names, key=key)


def tag_json(ctx: Ctx, repo: Repo, name: str) -> Json:
    sha = repo.refs[TAGS + name]
    api = f"{ctx.base}/repos/{repo.full_name}"
    return {
        "name": name,
        "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
        "zipball_url": f"{api}/zipball/refs/tags/{name}",
        "tarball_url": f"{api}/tarball/refs/tags/{name}",
        "node_id": node_id("Ref", f"{repo.full_name}:{TAGS}{name}"),
    }


@route("GET", "{repo}/tags")
def list_tags(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return paginate(ctx, tag_names(repo), lambda n: tag_json(ctx, repo, n))
