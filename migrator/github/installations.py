"""Where the release App is installed, as far as the planning token can see: read once per plan.

`GET /orgs/{org}/installations` lists the org's App installations (it needs an org owner, or an App with the
organisation administration permission). An installation on all repositories covers every repository; one on
selected repositories covers those `GET /user/installations/{id}/repositories` lists (a user's token). What the
token may not read stays unknown, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from migrator.github.transport import Transport


@dataclass(frozen=True)
class AppInstallation:
    slug: str
    found: bool | None  # installed on the org; None when the installations could not be listed
    app_id: int | None = None
    repositories: frozenset[str] | None = None  # full names; None with `found` means all (or unknown: see why)
    all_repositories: bool = False
    why_unknown: str = ""

    def covers(self, full_name: str) -> bool | None:
        if self.found is None:
            return None
        if not self.found:
            return False
        if self.all_repositories:
            return True
        if self.repositories is None:
            return None
        return full_name.lower() in {name.lower() for name in self.repositories}


def read_installation(
    transport: Transport, org: str, slug: str, per_page: int = 100, *, planning_app: int | None = None
) -> AppInstallation:
    """The org's installations when the token may list them; else, for a plan made as the release App itself,
    that installation's own repositories (`GET /installation/repositories`)."""
    got = transport.rest_get(
        f"/orgs/{quote(org, safe='')}/installations",
        {"per_page": per_page},
        what=f"listing the App installations of {org}",
        step="apps",
        unknown_on=frozenset({403, 404}),
    )
    data = got[1] if got is not None else None
    listed = data.get("installations") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        if planning_app is not None:
            return _as_the_app(transport, slug, planning_app, per_page)
        why = "listing the organisation's App installations needs an org owner's token"
        return AppInstallation(slug, None, why_unknown=why)
    mine = next((i for i in listed if isinstance(i, dict) and i.get("app_slug") == slug), None)
    if mine is None:
        return AppInstallation(slug, False)
    app_id = int(mine["app_id"]) if isinstance(mine.get("app_id"), int) else None
    if mine.get("repository_selection") == "all":
        return AppInstallation(slug, True, app_id, all_repositories=True)
    names = _selected(transport, int(mine.get("id") or 0), per_page)
    why = "" if names is not None else "the App is installed on selected repositories, which this token cannot list"
    return AppInstallation(slug, True, app_id, repositories=names, why_unknown=why)


def _as_the_app(transport: Transport, slug: str, planning_app: int, per_page: int) -> AppInstallation:
    got = transport.rest_get(
        f"/apps/{quote(slug, safe='')}", what=f"reading the App {slug}", step="apps", unknown_on=frozenset({403, 404})
    )
    data = got[1] if got is not None else None
    app_id = data.get("id") if isinstance(data, dict) else None
    if app_id != planning_app:
        why = "the plan runs as another App, which may not list the organisation's installations"
        return AppInstallation(slug, None, app_id if isinstance(app_id, int) else None, why_unknown=why)
    got = transport.rest_get(
        "/installation/repositories",
        {"per_page": per_page},
        what="listing the repositories of this installation",
        step="apps",
        unknown_on=frozenset({403, 404}),
    )
    page = got[1] if got is not None else None
    if not isinstance(page, dict):
        return AppInstallation(slug, None, planning_app, why_unknown="the installation's repositories are unreadable")
    if page.get("repository_selection") == "all":
        return AppInstallation(slug, True, planning_app, all_repositories=True)
    names = _names(page)
    if names is None:
        return AppInstallation(slug, True, planning_app, why_unknown="its repositories span more than one page")
    return AppInstallation(slug, True, planning_app, repositories=names)


def _names(page: dict[str, object]) -> frozenset[str] | None:
    """The full names of one page of repositories; None when the page is not all of them."""
    repos = page.get("repositories")
    if not isinstance(repos, list):
        return None
    names = frozenset(str(r["full_name"]) for r in repos if isinstance(r, dict) and "full_name" in r)
    total = page.get("total_count")
    return None if isinstance(total, int) and total > len(names) else names


def _selected(transport: Transport, installation_id: int, per_page: int) -> frozenset[str] | None:
    got = transport.rest_get(
        f"/user/installations/{installation_id}/repositories",
        {"per_page": per_page},
        what=f"listing the repositories of installation {installation_id}",
        step="apps",
        unknown_on=frozenset({403, 404}),
    )
    data = got[1] if got is not None else None
    return _names(data) if isinstance(data, dict) else None
