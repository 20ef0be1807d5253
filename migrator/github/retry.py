"""The one retry layer, for reads.

`classify` sorts a failed request into transient (5xx, timeouts, dropped connections), a primary
rate limit (wait until `x-ratelimit-reset`), a secondary rate limit (wait `Retry-After`, else at
least a minute, as GitHub documents) or fatal. `RetryPolicy.wait_for` says how long to wait.
`retry_read` repeats a read under that policy. Writes (a later layer) may use `classify` and
`wait_for` to decide, but must not use `retry_read`: a repeated write is not always harmless.

A 401 is fatal here. The one exception lives below this layer, in `transport`: with a GitHub App, a
request refused 401 (the installation token expired before the client thought it would, or was revoked)
is sent once more with a newly minted token, reads and writes alike. That is no retry of an effect:
GitHub refused the credential, so it did nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import requests
from github import GithubException
from tenacity import RetryCallState, Retrying, retry_if_exception

from migrator.errors import RemoteError

T = TypeVar("T")


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # a module-level seam: tests replace it without touching other threads' time.sleep

RATE_LIMIT_STATUSES = (403, 429)
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
SHRINK_STATUSES = frozenset({502, 504})  # GitHub's answer to a GraphQL page that took too long


CONNECTION_FAILED = "connection failed"


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PRIMARY_LIMIT = "primary rate limit"
    SECONDARY_LIMIT = "secondary rate limit"
    FATAL = "fatal"


class ApiFailure(Exception):
    """A failure GitHub reports inside a 200 answer (GraphQL `RATE_LIMITED`), restated as the HTTP status it means."""

    def __init__(self, status: int, message: str, headers: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = {k.lower(): str(v) for k, v in (headers or {}).items()}


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    status: int | None  # None for timeouts and connection errors
    message: str
    wait: float | None = None  # what GitHub asked for (Retry-After, or until the reset); None: it did not say
    timed_out: bool = False

    @property
    def retryable(self) -> bool:
        return self.kind is not FailureKind.FATAL

    @property
    def describe(self) -> str:
        return self.message if self.status is None else f"{self.status} {self.message}".strip()

    @property
    def page_too_slow(self) -> bool:
        """GitHub's answer to a query that takes too long: a smaller page may succeed."""
        return self.timed_out or self.status in SHRINK_STATUSES


def _message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return " ".join(str(data["message"]).split())
    return ""


def _number(headers: Mapping[str, Any], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def classify(error: BaseException, *, now: float | None = None) -> Failure:
    """What kind of failure `error` is, and how long GitHub asked us to wait."""
    if isinstance(error, requests.exceptions.Timeout):
        return Failure(FailureKind.TRANSIENT, None, "timed out", timed_out=True)
    if isinstance(error, requests.exceptions.ConnectionError):
        return Failure(FailureKind.TRANSIENT, None, CONNECTION_FAILED)
    if isinstance(error, GithubException):
        status, headers, message = int(error.status), dict(error.headers or {}), _message(error.data)
    elif isinstance(error, ApiFailure):
        status, headers, message = error.status, error.headers, error.message
    else:
        return Failure(FailureKind.FATAL, None, f"{type(error).__name__}: {error}")
    headers = {str(k).lower(): v for k, v in headers.items()}
    clock = time.time() if now is None else now
    retry_after = _number(headers, "retry-after")
    if status in RATE_LIMIT_STATUSES:
        if _number(headers, "x-ratelimit-remaining") == 0 and retry_after is None:
            reset = _number(headers, "x-ratelimit-reset")
            wait = max(reset - clock, 0.0) + 1.0 if reset is not None else None
            return Failure(FailureKind.PRIMARY_LIMIT, status, message, wait)
        lowered = message.lower()
        if retry_after is not None or status == 429 or "secondary rate limit" in lowered or "abuse" in lowered:
            return Failure(FailureKind.SECONDARY_LIMIT, status, message, retry_after)
    if status in TRANSIENT_STATUSES:
        return Failure(FailureKind.TRANSIENT, status, message, retry_after)
    return Failure(FailureKind.FATAL, status, message)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 1.0  # transient failures wait 1, 2, 4, ... seconds
    backoff_max: float = 30.0
    secondary_wait: float = 60.0  # a secondary limit without Retry-After: at least a minute, doubling
    max_wait: float = 3700.0  # a single wait longer than this fails instead (a primary window is an hour)
    sleep: Callable[[float], None] | None = None  # None: `time.sleep`, through the module's `_sleep` seam
    clock: Callable[[], float] = time.time

    def pause(self, seconds: float) -> None:
        (self.sleep or _sleep)(seconds)

    def wait_for(self, failure: Failure, attempt: int) -> float:
        """Seconds to wait before attempt `attempt + 1`."""
        if failure.wait is not None:
            return failure.wait
        if failure.kind is FailureKind.SECONDARY_LIMIT:
            return float(self.secondary_wait * 2 ** (attempt - 1))
        if failure.kind is FailureKind.PRIMARY_LIMIT:
            return self.secondary_wait  # no reset header: wait like a secondary limit
        return float(min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max))


RetryHook = Callable[[Failure, float, int], None]  # failure, seconds to wait, attempt number that failed


def retry_read(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    on_retry: RetryHook,
    retry_on: Callable[[Failure], bool] | None = None,
) -> T:
    """`call()`, repeated under `policy` while it fails retryably; the last error is re-raised as it is."""
    wanted = retry_on or (lambda failure: failure.retryable)

    def failure_of(state: RetryCallState) -> Failure:
        error = state.outcome.exception() if state.outcome else None
        return classify(error, now=policy.clock()) if error else Failure(FailureKind.FATAL, None, "")

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        return policy.wait_for(failure_of(state), state.attempt_number) > policy.max_wait

    def before_sleep(state: RetryCallState) -> None:
        failure = failure_of(state)
        on_retry(failure, policy.wait_for(failure, state.attempt_number), state.attempt_number)

    retrying = Retrying(
        retry=retry_if_exception(lambda error: wanted(classify(error, now=policy.clock()))),
        stop=stop,
        wait=lambda state: policy.wait_for(failure_of(state), state.attempt_number),
        sleep=policy.pause,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(call)


def exhausted(failure: Failure, what: str) -> RemoteError:
    """The one-line error once retries are spent on a retryable failure."""
    if failure.kind in (FailureKind.PRIMARY_LIMIT, FailureKind.SECONDARY_LIMIT):
        return RemoteError(
            f"GitHub's {failure.kind} stopped {what} ({failure.describe}); wait for the limit to reset and run again"
        )
    if failure.describe == CONNECTION_FAILED:  # nothing answered: more often a wrong URL than an outage
        return RemoteError(
            f"could not reach GitHub while {what} (connection failed); check --api-url (or $GITHUB_API_URL) "
            "and the network, then run again"
        )
    return RemoteError(f"GitHub kept failing while {what} ({failure.describe}); try again later")
