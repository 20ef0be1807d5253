"""Classic branch protection's lists of actors (GitHub's `{users, teams, apps}`): who may bypass required pull
requests (`required_pull_request_reviews.bypass_pull_request_allowances`), and who may push at all
(`restrictions`). An App is listed by slug (a seed may name it by its id); it pushes as `<slug>[bot]`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from migrator.sandbox.rulesets import Actor

__all__ = ["PR_REFUSAL", "RESTRICTED_REFUSAL", "Allowances"]


@dataclass(frozen=True, kw_only=True)
class Allowances:
    """Classic protection's lists of actors: who may bypass required pull requests, or who may push at all."""

    users: tuple[str, ...] = ()  # logins
    teams: tuple[str, ...] = ()  # team slugs of the repository's org
    apps: tuple[str, ...] = ()  # App slugs (a seed may name an App by its id)

    def admits(self, actor: Actor, team_id: Callable[[str], int] | None = None) -> bool:
        if actor.app_id is not None:
            slug = actor.login.removesuffix("[bot]")
            return any(a.lower() == slug.lower() or a == str(actor.app_id) for a in self.apps)
        if actor.deploy_key:
            return False
        if any(u.lower() == actor.login.lower() for u in self.users):
            return True
        return team_id is not None and any(team_id(t) in actor.teams for t in self.teams)


PR_REFUSAL = "Changes must be made through a pull request."
RESTRICTED_REFUSAL = (
    "You're not authorized to push to this branch. "
    "Visit https://docs.github.com/articles/about-protected-branches/ for more information."
)
