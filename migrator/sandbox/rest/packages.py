"""GitHub Container Registry package versions (REST reference, "Packages": list package versions for a package
owned by an organization), answered from the Actions model's registry of image pushes.

One push (a run's job pushing one image under one or more tags) is one version, named by a digest made from it.
A tag pushed again moves to the newer version, as GHCR moves it, so an overwritten push is left untagged: what a
race looks like from the registry. Versions are listed newest first; an image nobody pushed is GitHub's 404.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from migrator.sandbox import shapes
from migrator.sandbox.actions.model import ImagePush
from migrator.sandbox.http import ApiError, Response
from migrator.sandbox.rest.core import Ctx, Json, paginate, route

REGISTRY = "ghcr.io"
PACKAGE_DOCS = (
    "https://docs.github.com/rest/packages/packages#list-package-versions-for-a-package-owned-by-an-organization"
)


@dataclass(frozen=True)
class Version:
    id: int
    digest: str
    tags: tuple[str, ...]
    pushed_at: float


def versions_of(pushes: list[ImagePush], image: str) -> list[Version]:
    """The versions of `image` (ghcr.io/org/name, any case), newest first, each with the tags it still holds."""
    groups: dict[tuple[int, str], list[ImagePush]] = {}
    order: list[tuple[int, str]] = []
    for push in pushes:
        if push.image.lower() != image.lower():
            continue
        key = (push.run_id, push.job)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(push)
    holder: dict[str, tuple[int, str]] = {}
    for key in order:  # oldest first: a later push of a tag takes it
        for push in groups[key]:
            holder[push.tag] = key
    found = []
    for index, key in enumerate(order):
        first = groups[key][0]
        digest = hashlib.sha256(f"{first.image}@{first.run_id}/{first.job}/{first.sha}".encode()).hexdigest()
        tags = tuple(dict.fromkeys(p.tag for p in groups[key] if holder[p.tag] == key))
        found.append(Version(index + 1, f"sha256:{digest}", tags, max(p.pushed_at for p in groups[key])))
    return sorted(found, key=lambda v: (v.pushed_at, v.id), reverse=True)


@route("GET", "/orgs/(?P<org>[^/]+)/packages/(?P<kind>[^/]+)/(?P<name>[^/]+)/versions")
def list_versions(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    versions = versions_of(ctx.store.registry, f"{REGISTRY}/{g['org']}/{g['name']}") if org else []
    if g["kind"] != "container" or not versions:
        raise ApiError(404, "Package not found.", documentation_url=PACKAGE_DOCS)
    web = shapes.web_root(ctx.base)
    login, name = org.login if org else g["org"], g["name"].lower()

    def render(version: Version) -> Json:
        return {
            "id": version.id,
            "name": version.digest,
            "url": f"{ctx.base}/orgs/{login}/packages/container/{name}/versions/{version.id}",
            "package_html_url": f"{web}/orgs/{login}/packages/container/package/{name}",
            "html_url": f"{web}/orgs/{login}/packages/container/{name}/{version.id}",
            "created_at": shapes.iso(version.pushed_at),
            "updated_at": shapes.iso(version.pushed_at),
            "metadata": {"package_type": "container", "container": {"tags": list(version.tags)}},
        }

    return paginate(ctx, versions, render)
