"""Every request the adapter makes goes through here: PyGithub's requester, the read retry, usage counts,
and the translation of GitHub's failures into one-line `MigratorError`s.

With a GitHub App, each request also gets a fresh installation token when the last one nears its expiry
(`InstallationAuth`), and a request GitHub answers 401 is sent once more with a newly minted token: a
refused credential means GitHub did nothing, so this holds for writes too (it is re-authentication, not
a retry of the request's effect). Minting requests count in `usage.rest_requests`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import GithubException

from migrator.errors import AuthError, MigratorError, RemoteError
from migrator.github.auth import InstallationAuth
from migrator.github.paging import ReadGate
from migrator.github.retry import ApiFailure, Failure, FailureKind, RetryPolicy, classify, exhausted, retry_read
from migrator.github.types import Usage
from migrator.github.urls import ApiUrls
from migrator.log import get_logger

Json = dict[str, Any]
Headers = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class GraphQLError:
    type: str
    message: str
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class GraphQLAnswer:
    data: Json
    errors: tuple[GraphQLError, ...]
    headers: Headers


class Unreadable(ValueError):
    """An answer whose body could not be parsed as the JSON GitHub sends."""


class PageTooSlow(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.describe)
        self.failure = failure


def graphql_errors(body: Any) -> tuple[GraphQLError, ...]:
    raw = body.get("errors") if isinstance(body, dict) else None
    found = []
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, dict):
            path = tuple(p for p in item.get("path") or () if isinstance(p, str | int))
            message = " ".join(str(item.get("message", "")).split())
            found.append(GraphQLError(str(item.get("type") or ""), message, path))
    return tuple(found)


TRANSIENT_GRAPHQL_MESSAGES = ("something went wrong while executing your query", "timedout", "timed out")


def is_transient_graphql_error(error: GraphQLError) -> bool:
    """GitHub's "Something went wrong while executing your query. This may be the result of a timeout…":
    no `type`, and asking again usually works."""
    lowered = error.message.lower()
    return not error.type and any(marker in lowered for marker in TRANSIENT_GRAPHQL_MESSAGES)


def _has_result(data: Json) -> bool:
    return any(value is not None for key, value in data.items() if key != "rateLimit")


def _lowered(headers: Mapping[str, Any] | None) -> Headers:
    return {str(k).lower(): v for k, v in (headers or {}).items()}


class Transport:
    """One PyGithub requester, shared by REST and GraphQL, with the read retry around each request."""

    def __init__(
        self, requester: Any, urls: ApiUrls, usage: Usage, policy: RetryPolicy, *, credential_source: str
    ) -> None:
        self._requester = requester
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._counting = threading.Lock()
        self.gate = ReadGate()  # `GitHubClient.set_jobs` widens it for concurrent reads
        self.urls = urls
        self.usage = usage
        self.policy = policy
        self.credential_source = credential_source  # where the token came from, e.g. "GITHUB_TOKEN"
        auth = getattr(requester, "auth", None)
        self._installation = auth if isinstance(auth, InstallationAuth) else None
        if self._installation is not None:
            self._installation.before_mint = self._count_rest

    def _count_rest(self) -> None:
        with self._counting:
            self.usage.rest_requests += 1

    def _count_graphql(self) -> None:
        with self._counting:
            self.usage.graphql_requests += 1

    def count_retry(self) -> None:
        with self._counting:
            self.usage.retries += 1

    @property
    def requester(self) -> Any:
        """PyGithub's requester for this thread: one HTTP connection object must not serve two threads at once."""
        if threading.get_ident() == self._owner:
            return self._requester
        mine = getattr(self._local, "requester", None)
        if mine is None:
            mine = self._local.requester = self._requester.withAuth(self._requester.auth)
        return mine

    def _authenticated(
        self, count: Callable[[], None], call: Callable[[], T], *, resource: str = "rest", points: int = 1
    ) -> T:
        """`call()`, counted, through the gate; if GitHub refuses an installation token (401), once more with a
        new token."""
        for attempt in (1, 2):
            try:
                if self._installation is not None:  # mint first when due: a failed mint is not `call`
                    self._installation.refresh_if_due()
                count()
                with self.gate.slot(resource, points, clock=self.policy.clock, sleep=self.policy.pause):
                    return call()
            except GithubException as error:
                if attempt == 2 or self._installation is None or error.status != 401:
                    raise
                self._installation.renew()
                get_logger(step="token").info("github.token_renewed", reason=f"401 {_message(error)}")
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ REST

    def rest_get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        what: str,
        step: str,
        repo: str | None = None,
        unknown_on: frozenset[int] = frozenset(),
        need: str = "read access to it",
        not_found: Callable[[], MigratorError] | None = None,
    ) -> tuple[Headers, Any] | None:
        """GET a path or absolute URL. None when GitHub refuses it with a status in `unknown_on`."""

        def attempt() -> tuple[Headers, Any]:
            headers, data = self._authenticated(
                self._count_rest,
                lambda: self.requester.requestJsonAndCheck("GET", url, parameters=dict(params or {})),
            )
            return _lowered(headers), data

        try:
            got: tuple[Headers, Any] = self.read(attempt, what=what, step=step, repo=repo)
            return got
        except (GithubException, ApiFailure, requests.exceptions.RequestException) as error:
            failure = classify(error, now=self.policy.clock())
            if failure.kind is FailureKind.FATAL and failure.status in unknown_on:
                get_logger(step=step, **_repo(repo)).info("github.unknown", what=what, status=failure.status)
                return None
            if failure.status == 404 and not_found is not None:
                raise not_found() from error
            raise self._error(failure, what, need) from error

    # ------------------------------------------------------------ GraphQL

    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        what: str,
        step: str,
        shrinkable: bool = False,
        need: str = "read access to the organization's repositories",
    ) -> GraphQLAnswer:
        """POST one query. Rate-limit errors are retried; other `errors` are returned for the caller to judge.

        With `shrinkable`, a 502/504 or a timeout is not retried but raised as `PageTooSlow`, so that the
        caller can ask again for less.
        """

        def attempt() -> GraphQLAnswer:
            return self.post_graphql(query, variables)

        def retry_on(failure: Failure) -> bool:
            return failure.retryable and not (shrinkable and failure.page_too_slow)

        try:
            answer: GraphQLAnswer = self.read(attempt, what=what, step=step, retry_on=retry_on)
        except ValueError as error:  # Unreadable, or JSON PyGithub could not decode
            raise RemoteError(f"GitHub sent an unreadable answer while {what}; run again") from error
        except (GithubException, ApiFailure, requests.exceptions.RequestException) as error:
            failure = classify(error, now=self.policy.clock())
            if shrinkable and failure.page_too_slow:
                raise PageTooSlow(failure) from error
            raise self._error(failure, what, need) from error
        if not answer.data and answer.errors:
            raise self._graphql_refusal(answer.errors[0], what, need)
        return answer

    def post_graphql(self, query: str, variables: Mapping[str, Any]) -> GraphQLAnswer:
        """One GraphQL request, no retry. A `RATE_LIMITED` error is raised as the 403 it means;
        a body that is not GraphQL's JSON raises `Unreadable`."""
        payload = {"query": query, "variables": dict(variables)}
        headers, body = self._authenticated(
            self._count_graphql,
            lambda: self.requester.requestJsonAndCheck("POST", self.urls.graphql, input=payload),
            resource="graphql",
            points=5 if query.lstrip().startswith("mutation") else 1,
        )
        if not _graphql_shaped(body):
            raise Unreadable("the answer was not GraphQL's JSON")
        answer = GraphQLAnswer(_data(body), graphql_errors(body), _lowered(headers))
        cost = _points(answer.data)
        with self._counting:
            self.usage.graphql_points += cost
        self.gate.note_budget(_remaining(answer.data), cost)
        limited = next((e for e in answer.errors if e.type == "RATE_LIMITED"), None)
        if limited is not None:
            raise ApiFailure(403, limited.message, {**answer.headers, "x-ratelimit-remaining": "0"})
        broken = next((e for e in answer.errors if is_transient_graphql_error(e)), None)
        if broken is not None and not _has_result(answer.data):
            # GitHub's answer under load (HTTP 200, no `type`): a failure of the server, as a 502 would be
            raise ApiFailure(502, broken.message, answer.headers)
        return answer

    def send(self, verb: str, url: str, body: Mapping[str, Any] | None = None) -> tuple[Headers, Any]:
        """One REST request, no retry: for writes, which the adapter never repeats (but a 401 for an expired
        installation token is answered by re-minting and sending again: GitHub did nothing)."""
        headers, data = self._authenticated(
            self._count_rest,
            lambda: self.requester.requestJsonAndCheck(verb, url, input=None if body is None else dict(body)),
            points=1 if verb in ("GET", "HEAD") else 5,
        )
        return _lowered(headers), data

    def _graphql_refusal(self, error: GraphQLError, what: str, need: str) -> MigratorError:
        if error.type in ("FORBIDDEN", "INSUFFICIENT_SCOPES"):
            return AuthError(f"GitHub refused {what} ({error.message}); the token needs {need}")
        return RemoteError(f"GitHub refused the GraphQL query for {what}: {error.message}")

    # ------------------------------------------------------------ shared

    def read(
        self,
        attempt: Callable[[], Any],
        *,
        what: str,
        step: str,
        repo: str | None = None,
        retry_on: Callable[[Failure], bool] | None = None,
    ) -> Any:
        logger = get_logger(step=step, **_repo(repo))

        def on_retry(failure: Failure, wait: float, attempt_number: int) -> None:
            with self._counting:
                self.usage.retries += 1
            if failure.kind in (FailureKind.PRIMARY_LIMIT, FailureKind.SECONDARY_LIMIT):
                self.gate.hold(wait, clock=self.policy.clock)  # GitHub asked every request to wait, not this one
            logger.warning(
                "github.retry",
                what=what,
                reason=failure.kind.value,
                detail=failure.describe,
                wait_seconds=round(wait, 1),
                attempt=attempt_number,
            )

        return retry_read(attempt, policy=self.policy, on_retry=on_retry, retry_on=retry_on)

    def error_for(self, error: BaseException, what: str, need: str) -> MigratorError:
        """The one-line error for a request that failed for good."""
        return self._error(classify(error, now=self.policy.clock()), what, need)

    def _error(self, failure: Failure, what: str, need: str) -> MigratorError:
        if failure.retryable:
            return exhausted(failure, what)
        if failure.status == 401:
            return AuthError(
                f"GitHub rejected the token (401 {failure.message or 'Bad credentials'}); "
                f"check {self.credential_source}"
            )
        if failure.status == 403:
            return AuthError(f"GitHub refused {what} (403 {failure.message}); the token needs {need}")
        return RemoteError(f"GitHub refused {what} ({failure.describe})")


def _message(error: GithubException) -> str:
    data = error.data
    message = data.get("message") if isinstance(data, dict) else None
    return " ".join(str(message).split()) if message else "Bad credentials"


def _repo(repo: str | None) -> dict[str, str]:
    return {"repo": repo} if repo else {}


def _data(body: Any) -> Json:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _graphql_shaped(body: Any) -> bool:
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return False
    return body.get("data") is None or isinstance(body["data"], dict)


def _remaining(data: Json) -> int | None:
    limit = data.get("rateLimit")
    remaining = limit.get("remaining") if isinstance(limit, dict) else None
    return remaining if isinstance(remaining, int) else None


def _points(data: Json) -> int:
    limit = data.get("rateLimit")
    cost = limit.get("cost") if isinstance(limit, dict) else None
    return int(cost) if isinstance(cost, int) else 1
