"""The REST router, the request context and the helpers every resource shares."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlencode

from migrator.sandbox import ops
from migrator.sandbox.http import ApiError, Request, Response, not_found
from migrator.sandbox.limits import Limits
from migrator.sandbox.ops import OpError
from migrator.sandbox.settings import Settings
from migrator.sandbox.store import (
    InstallationToken,
    Power,
    PullRequest,
    Repo,
    Store,
)

T = TypeVar("T")
Json = dict[str, Any]


@dataclass(frozen=True)
class Ctx:
    store: Store
    settings: Settings
    limits: Limits
    request: Request
    token: str
    power: Power
    limit_key: str = ""  # whose rate-limit budget the request spends (an installation's, for its tokens)

    @property
    def base(self) -> str:
        """Where REST lives for this client (with /api/v3 when it came that way): every URL handed out."""
        return self.request.api_base

    @property
    def installation_token(self) -> InstallationToken | None:
        return self.store.installation_tokens.get(self.token)

    def body(self) -> Json:
        return self.request.json_object()


Handler = Callable[[Ctx, dict[str, str]], Response]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    compiled = re.compile("^" + pattern.replace("{repo}", _REPO) + "/?$")

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, compiled, handler))
        return handler

    return register


def dispatch(ctx: Ctx) -> Response:
    """Run the first route matching method and path; GitHub answers 404 for anything else, even a known
    path with an unsupported method."""
    for method, pattern, handler in _ROUTES:
        match = pattern.match(ctx.request.path)
        if match is None or method != ctx.request.method:
            continue
        groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        try:
            return handler(ctx, groups)
        except OpError as error:
            if error.rest_errors is not None:
                raise ApiError(422, "Validation Failed", errors=error.rest_errors) from error
            raise ApiError(error.status, error.rest_message or error.message) from error
    raise not_found()


# ---------------------------------------------------------------- helpers


def paginate(ctx: Ctx, items: Sequence[T], render: Callable[[T], Any], *, key: str | None = None) -> Response:
    per_page = int_param(ctx.request.param("per_page"), ctx.settings.default_per_page)
    per_page = min(max(per_page, 1), ctx.settings.max_per_page)
    page = max(int_param(ctx.request.param("page"), 1), 1)
    last = max(math.ceil(len(items) / per_page), 1)
    chunk = [render(item) for item in items[(page - 1) * per_page : page * per_page]]
    body: Any = chunk if key is None else {"total_count": len(items), key: chunk}
    links = _link_header(ctx, page, last)
    return Response(200, body, {"Link": links} if links else {})


def _link_header(ctx: Ctx, page: int, last: int) -> str:
    def url(number: int) -> str:
        params = [(k, v) for k, v in ctx.request.query if k != "page"] + [("page", str(number))]
        return f"{ctx.base}{ctx.request.path}?{urlencode(params)}"  # ctx.base keeps a GHES /api/v3

    rels: list[tuple[str, int]] = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    return ", ".join(f'<{url(n)}>; rel="{rel}"' for rel, n in rels)


def int_param(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def repo_of(ctx: Ctx, g: dict[str, str]) -> Repo:
    repo = ctx.store.repo(g["owner"], g["repo"])
    if repo is None:
        raise not_found()
    return repo


def writable(ctx: Ctx, g: dict[str, str]) -> Repo:
    repo = repo_of(ctx, g)
    ops.require_write(repo, ctx.power)
    return repo


def require_admin(ctx: Ctx) -> None:
    if not ctx.power.is_admin:
        raise ApiError(403, ops.not_accessible())


def non_empty(repo: Repo) -> None:
    if repo.is_empty:
        raise ApiError(409, "Git Repository is empty.")


def commit_sha(repo: Repo, ref: str) -> str:
    sha = repo.resolve_commitish(ref)
    if sha is None:
        non_empty(repo)
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def pull_of(repo: Repo, number: str) -> PullRequest:
    pull = repo.pulls.get(int_param(number, 0))
    if pull is None:
        raise not_found()
    return pull


def decode_b64(text: Any, field: str) -> bytes:
    if not isinstance(text, str):
        raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
    try:
        return base64.b64decode(text.encode(), validate=False)
    except (binascii.Error, ValueError) as error:
        raise ApiError(422, f"{field} is not valid Base64") from error


def created(body: Any, location: str) -> Response:
    return Response(201, body, {"Location": location})
