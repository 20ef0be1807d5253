"""The retry policy on its own: classification, waits, bounds."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from github import GithubException

from migrator.github.retry import ApiFailure, Failure, FailureKind, RetryPolicy, classify, exhausted, retry_read

NOW = 1_750_000_000.0
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def _http(status: int, message: str = "", **headers: str) -> GithubException:
    return GithubException(status, {"message": message}, headers)


@pytest.mark.parametrize(
    ("error", "kind", "wait"),
    [
        (_http(502, "Server Error"), FailureKind.TRANSIENT, None),
        (_http(503, "Unavailable", **{"Retry-After": "3"}), FailureKind.TRANSIENT, 3.0),
        (requests.exceptions.ReadTimeout(), FailureKind.TRANSIENT, None),
        (requests.exceptions.ConnectionError(), FailureKind.TRANSIENT, None),
        (_http(403, "API rate limit exceeded", **{"x-ratelimit-remaining": "0",
                                                  "x-ratelimit-reset": str(int(NOW) + 30)}),
         FailureKind.PRIMARY_LIMIT, 31.0),
        (_http(429, "", **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) - 5)}),
         FailureKind.PRIMARY_LIMIT, 1.0),
        (_http(403, SECONDARY, **{"retry-after": "12"}), FailureKind.SECONDARY_LIMIT, 12.0),
        (_http(403, SECONDARY), FailureKind.SECONDARY_LIMIT, None),
        (_http(429, "slow down"), FailureKind.SECONDARY_LIMIT, None),
        (ApiFailure(403, "API rate limit already exceeded", {"x-ratelimit-remaining": "0"}),
         FailureKind.PRIMARY_LIMIT, None),
        (_http(403, "Resource not accessible by integration"), FailureKind.FATAL, None),
        (_http(401, "Bad credentials"), FailureKind.FATAL, None),
        (_http(404, "Not Found"), FailureKind.FATAL, None),
        (_http(422, "Validation Failed"), FailureKind.FATAL, None),
        (ValueError("bug"), FailureKind.FATAL, None),
    ],
)
def test_classify(error: BaseException, kind: FailureKind, wait: float | None) -> None:
    failure = classify(error, now=NOW)
    assert (failure.kind, failure.wait) == (kind, wait)


def test_page_too_slow_is_a_gateway_error_or_a_timeout() -> None:
    assert classify(_http(502), now=NOW).page_too_slow and classify(_http(504), now=NOW).page_too_slow
    assert classify(requests.exceptions.ReadTimeout(), now=NOW).page_too_slow
    assert not classify(_http(500), now=NOW).page_too_slow
    assert not classify(requests.exceptions.ConnectionError(), now=NOW).page_too_slow


def test_waits() -> None:
    policy = RetryPolicy()
    transient = Failure(FailureKind.TRANSIENT, 500, "")
    assert [policy.wait_for(transient, n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    secondary = Failure(FailureKind.SECONDARY_LIMIT, 403, "")
    assert [policy.wait_for(secondary, n) for n in (1, 2, 3)] == [60, 120, 240]
    assert policy.wait_for(Failure(FailureKind.SECONDARY_LIMIT, 403, "", wait=5), 3) == 5


class _Flaky:
    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _run(call: Any, **policy: Any) -> tuple[Any, list[float], list[tuple[str, float, int]]]:
    slept: list[float] = []
    hooks: list[tuple[str, float, int]] = []
    result = retry_read(call, policy=RetryPolicy(sleep=slept.append, clock=lambda: NOW, **policy),
                        on_retry=lambda f, w, n: hooks.append((f.kind.value, w, n)))
    return result, slept, hooks


def test_retries_transient_failures_then_succeeds() -> None:
    call = _Flaky(_http(502), requests.exceptions.ReadTimeout())
    result, slept, hooks = _run(call)
    assert (result, call.calls, slept) == ("ok", 3, [1.0, 2.0])
    assert hooks == [("transient", 1.0, 1), ("transient", 2.0, 2)]


def test_fatal_failures_are_not_retried() -> None:
    call = _Flaky(_http(401, "Bad credentials"))
    with pytest.raises(GithubException):
        _run(call)
    assert call.calls == 1


def test_attempts_are_bounded_and_the_last_error_is_kept() -> None:
    call = _Flaky(*[_http(500, "boom")] * 10)
    with pytest.raises(GithubException) as caught:
        _run(call, max_attempts=3)
    assert call.calls == 3 and caught.value.status == 500
    error = exhausted(classify(caught.value, now=NOW), "reading things")
    assert error.message == "GitHub kept failing while reading things (500 boom); try again later"


def test_custom_predicate_lets_the_caller_take_some_failures() -> None:
    call = _Flaky(_http(502))
    with pytest.raises(GithubException):
        retry_read(call, policy=RetryPolicy(sleep=lambda s: None), on_retry=lambda *a: None,
                   retry_on=lambda f: not f.page_too_slow)
    assert call.calls == 1


def test_nothing_answering_points_at_the_url_not_at_an_outage() -> None:
    import requests

    error = exhausted(classify(requests.exceptions.ConnectionError("refused"), now=NOW), "reading the token's user")
    assert error.message == (
        "could not reach GitHub while reading the token's user (connection failed); check --api-url "
        "(or $GITHUB_API_URL) and the network, then run again"
    )
