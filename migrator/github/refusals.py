"""GitHub's answers to writes, as the executor's `WriteError`s (migrator.apply.ports).

Pure: an exception or a list of GraphQL errors in, one error out. The table:

| GitHub says                                                            | raised          |
|------------------------------------------------------------------------|-----------------|
| 422 `Reference already exists` / `A pull request already exists for …` | `AlreadyExists` |
| GraphQL `STALE_DATA` / `Expected branch to point to …`                  | `StaleHead`     |
| 401                                                                    | `AuthError`     |
| primary or secondary rate limit (403/429, GraphQL `RATE_LIMITED`)      | `Throttled`     |
| 403, 404, 409, other 4xx; GraphQL FORBIDDEN, NOT_FOUND, UNPROCESSABLE   | `Forbidden`     |
| 5xx, timeout, dropped connection, unreadable body, untyped GraphQL error| `Ambiguous`     |
| 422 `Reference does not exist` (a branch already deleted)              | `Ambiguous`     |

Other 4xx are deterministic refusals, so they are `Forbidden` (skip, do not repeat) rather than
`Ambiguous` (which the executor answers by reading back and writing again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests
from github import GithubException

from migrator.apply.ports import AlreadyExists, Ambiguous, Forbidden, Rejected, StaleHead, Throttled, WriteError
from migrator.errors import AuthError
from migrator.github.retry import ApiFailure, Failure, FailureKind, RetryPolicy, classify
from migrator.github.transport import GraphQLError

MAX_DETAIL = 200
ALREADY_EXISTS = ("reference already exists", "a pull request already exists", "already exists in the repository")
STALE = "expected branch to point to"
GONE = "reference does not exist"  # deleting a branch that is already gone: read back, it is done
FORBIDDEN_TYPES = frozenset({"FORBIDDEN", "INSUFFICIENT_SCOPES", "NOT_FOUND", "UNPROCESSABLE"})


def one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 1] + "…"


def http_refusal(
    error: BaseException, *, what: str, policy: RetryPolicy, credential_source: str
) -> WriteError | AuthError:
    """A failed REST or GraphQL request (an exception from PyGithub or requests) as one error."""
    if isinstance(error, ValueError):  # the body could not be parsed
        return Ambiguous(f"GitHub's answer to {what} could not be read; read back before writing again")
    failure = classify(error, now=policy.clock())
    if failure.kind in (FailureKind.PRIMARY_LIMIT, FailureKind.SECONDARY_LIMIT):
        wait = policy.wait_for(failure, 1)
        return Throttled(f"GitHub's {failure.kind} stopped {what} ({one_line(failure.describe)})", wait=wait)
    if failure.kind is FailureKind.TRANSIENT:
        return Ambiguous(f"{what}: {one_line(failure.describe)}; it may or may not have happened")
    return _fatal(failure, _details(error), what=what, credential_source=credential_source)


def _fatal(failure: Failure, details: Sequence[str], *, what: str, credential_source: str) -> WriteError | AuthError:
    status = failure.status
    text = one_line("; ".join(d for d in (failure.message, *details) if d) or "no message")
    if status == 401:
        return AuthError(f"GitHub rejected the token (401 {text}); check {credential_source}")
    lowered = text.lower()
    if status == 422 and any(marker in lowered for marker in ALREADY_EXISTS):
        return AlreadyExists(f"{what}: {text}")
    if STALE in lowered:
        return StaleHead(f"{what}: {text}")
    if status == 422 and GONE in lowered:
        return Ambiguous(f"{what}: {text}")
    if status is None:  # not an HTTP answer at all (a bug, or something we do not know): unsure
        return Ambiguous(f"{what}: {text}")
    if status == 422 and not any(word in lowered for word in ("protected", "workflow", "permission")):
        return Rejected(f"GitHub rejected {what} ({status} {text})")
    return Forbidden(f"GitHub refused {what} ({status} {text})")


def _details(error: BaseException) -> list[str]:
    """The messages inside a 422's `errors` list, where GitHub puts "A pull request already exists"."""
    data = error.data if isinstance(error, GithubException) else None
    errors = data.get("errors") if isinstance(data, dict) else None
    found = []
    for item in errors if isinstance(errors, list) else ():
        if isinstance(item, dict) and isinstance(item.get("message"), str):
            found.append(item["message"])
        elif isinstance(item, str):
            found.append(item)
    return found


def graphql_refusal(
    errors: Sequence[GraphQLError], headers: Mapping[str, Any], *, what: str, policy: RetryPolicy
) -> WriteError:
    """GraphQL errors that came with HTTP 200 and no usable result."""
    first = errors[0] if errors else GraphQLError("", "no result and no error")
    text = one_line(first.message)
    lowered = text.lower()
    if first.type == "RATE_LIMITED":
        limited = classify(ApiFailure(403, text, {**headers, "x-ratelimit-remaining": "0"}), now=policy.clock())
        return Throttled(f"GitHub's {limited.kind} stopped {what} ({text})", wait=policy.wait_for(limited, 1))
    if first.type == "STALE_DATA" or STALE in lowered:
        return StaleHead(f"{what}: {text}")
    if any(marker in lowered for marker in ALREADY_EXISTS):
        return AlreadyExists(f"{what}: {text}")
    if first.type == "UNPROCESSABLE" and "workflow" not in lowered and "protected" not in lowered:
        return Rejected(f"GitHub rejected {what} ({text})")
    if first.type in FORBIDDEN_TYPES or "without `workflow" in lowered or "not accessible" in lowered:
        return Forbidden(f"GitHub refused {what} ({first.type or 'error'}: {text})")
    # No type: GitHub's "Something went wrong while executing your query" (often a timeout).
    return Ambiguous(f"{what}: {text}; it may or may not have happened")


WIRE_ERRORS = (GithubException, ApiFailure, requests.exceptions.RequestException, ValueError)
