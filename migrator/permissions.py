"""What a token must be able to do for a plan's writes, compared before the first write.

A token that cannot push walks nothing: `apply` at 1,000 repositories with a read-only token would
otherwise collect 1,000 refusals. The same comparison gives the planner its blocked reason, so a
read-only token is never reported as one that merely lacks the `workflow` scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migrator.errors import AuthError
from migrator.github.types import TokenInfo, identity_of


def what_it_is(login: str, scopes: Sequence[str] | None) -> str:
    """`octocat (scopes: repo)`, or the App installation; what a refusal and `show` name."""
    if scopes is None:
        return login
    return f"{login} (scopes: {', '.join(scopes) or 'none'})"


def missing(token: TokenInfo, *, workflows: bool) -> str | None:
    """What the token lacks to push branches and open PRs (and change workflow files); None when enough or unknown."""
    if token.can_write is False:
        if token.kind == "app":
            return "the App installation is read-only: it needs contents: write and pull_requests: write"
        return "the token is read-only: it needs the `repo` scope (or `public_repo` for public repositories)"
    if workflows and not token.can_push_workflows:
        if token.kind == "app":
            return "the App installation lacks workflows: write, which changing .github/workflows/ needs"
        return "the token lacks the `workflow` scope, which changing .github/workflows/ needs"
    return None


def refuse_unless_able(token: TokenInfo, planned_as: Mapping[str, Any], *, command: str, workflows: bool) -> None:
    """Raise (exit 2, nothing written) when this token cannot do the command's writes, or is not the plan's."""
    lack = missing(token, workflows=workflows)
    if lack:
        raise AuthError(f"{command} refused before any write: {lack}; {what_it_is(token.login, token.scopes)}")
    planned = str(planned_as.get("login") or "")
    planned_identity = identity_of(planned)
    unknown = planned.startswith("(installation") or token.login.startswith("(installation")
    if planned_identity and not unknown and planned_identity != token.identity:
        raise AuthError(
            f"{command} refused before any write: the plan was made as {planned_identity}, but this token is "
            f"{token.identity}; use the planning identity, or re-plan with this token (its access may differ)"
        )
