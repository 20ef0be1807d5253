"""The error table for writes, on its own (the sandbox tests check the same against real answers)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from github import GithubException

from migrator.apply.ports import AlreadyExists, Ambiguous, Forbidden, Rejected, StaleHead, Throttled
from migrator.errors import AuthError
from migrator.github.refusals import graphql_refusal, http_refusal
from migrator.github.retry import RetryPolicy
from migrator.github.transport import GraphQLError, Unreadable

NOW = 1_750_000_000.0
POLICY = RetryPolicy(clock=lambda: NOW, sleep=lambda _: None)
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def _http(status: int, message: str = "", errors: Any = None, **headers: str) -> GithubException:
    data: dict[str, Any] = {"message": message}
    if errors is not None:
        data["errors"] = errors
    return GithubException(status, data, headers)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_http(422, "Reference already exists"), AlreadyExists),
        (
            _http(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:b."}],
            ),
            AlreadyExists,
        ),
        (_http(422, "Validation Failed", [{"code": "custom", "message": "No commits between main and b"}]), Rejected),
        (_http(422, "Protected branch update failed for refs/heads/main."), Forbidden),
        (_http(422, "Reference does not exist"), Ambiguous),
        (_http(401, "Bad credentials"), AuthError),
        (_http(403, "Resource not accessible by personal access token"), Forbidden),
        (_http(403, "Resource not accessible by integration"), Forbidden),
        (
            _http(
                403,
                "refusing to allow a Personal Access Token to create or update workflow `.github/workflows/a.yml` "
                "without `workflow` scope",
            ),
            Forbidden,
        ),
        (_http(404, "Not Found"), Forbidden),
        (_http(409, "Changes must be made through a pull request."), Forbidden),
        (_http(500, "Server Error"), Ambiguous),
        (_http(504, "We couldn't respond to your request in time."), Ambiguous),
        (requests.exceptions.ReadTimeout("read timed out"), Ambiguous),
        (requests.exceptions.ConnectionError("reset by peer"), Ambiguous),
        (Unreadable("not JSON"), Ambiguous),
        (ValueError("Expecting value: line 1 column 1"), Ambiguous),
    ],
)
def test_http_refusals(error: BaseException, kind: type[Exception]) -> None:
    refusal = http_refusal(error, what="writing", policy=POLICY, credential_source="GITHUB_TOKEN")
    assert type(refusal) is kind
    assert "\n" not in str(refusal)


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (_http(403, SECONDARY, **{"Retry-After": "7"}), 7.0),
        (_http(403, SECONDARY), 60.0),
        (_http(429, "Too Many Requests"), 60.0),
        (
            _http(
                403,
                "API rate limit exceeded",
                **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 100)},
            ),
            101.0,
        ),
    ],
)
def test_rate_limits_are_throttled_with_githubs_wait(error: BaseException, wait: float) -> None:
    refusal = http_refusal(error, what="writing", policy=POLICY, credential_source="GITHUB_TOKEN")
    assert isinstance(refusal, Throttled) and refusal.wait == wait


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (GraphQLError("STALE_DATA", 'Expected branch to point to "abc" but it did not.'), StaleHead),
        (GraphQLError("", 'Expected branch to point to "abc" but it did not. Pull and try again.'), StaleHead),
        (GraphQLError("FORBIDDEN", "Resource not accessible by integration"), Forbidden),
        (GraphQLError("INSUFFICIENT_SCOPES", "Your token has not been granted the required scopes"), Forbidden),
        (GraphQLError("NOT_FOUND", "Could not resolve to a Repository with the name 'acme/x'."), Forbidden),
        (
            GraphQLError(
                "",
                "refusing to allow a GitHub App to create or update workflow `.github/a.yml` "
                "without `workflows` permission",
            ),
            Forbidden,
        ),
        (
            GraphQLError(
                "",
                "refusing to allow a Personal Access Token to create or update workflow `.github/a.yml` "
                "without `workflow` scope",
            ),
            Forbidden,
        ),
        (GraphQLError("UNPROCESSABLE", 'A ref named "refs/heads/b" already exists in the repository.'), AlreadyExists),
        (GraphQLError("UNPROCESSABLE", "Protected branch update failed for refs/heads/main."), Forbidden),
        (GraphQLError("", "Something went wrong while executing your query."), Ambiguous),
    ],
)
def test_graphql_refusals(error: GraphQLError, kind: type[Exception]) -> None:
    assert type(graphql_refusal([error], {}, what="committing", policy=POLICY)) is kind


def test_graphql_rate_limited_waits_for_the_reset() -> None:
    refusal = graphql_refusal(
        [GraphQLError("RATE_LIMITED", "API rate limit exceeded")],
        {"x-ratelimit-reset": str(int(NOW) + 9)},
        what="committing",
        policy=POLICY,
    )
    assert isinstance(refusal, Throttled) and refusal.wait == 10.0
    assert type(graphql_refusal([], {}, what="committing", policy=POLICY)) is Ambiguous
