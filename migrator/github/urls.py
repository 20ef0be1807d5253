"""Where the REST and GraphQL APIs live for github.com, GitHub Enterprise Server and the sandbox."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from migrator.errors import UsageError

DEFAULT_API_URL = "https://api.github.com"
GHES_REST_PATH = "/api/v3"


@dataclass(frozen=True)
class ApiUrls:
    rest: str  # no trailing slash
    graphql: str

    @property
    def host(self) -> str:
        return urlsplit(self.rest).hostname or ""

    @property
    def is_github_com(self) -> bool:
        return self.host == "api.github.com"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_urls(api_url: str | None = None, *, env: Mapping[str, str] | None = None) -> ApiUrls:
    """`api_url`, else GITHUB_API_URL (set in Actions), else github.com.

    A bare GHES host gets GitHub's `/api/v3` prefix; a loopback URL (the sandbox) is used as given.
    """
    environ = os.environ if env is None else env
    raw = (api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"API URL {raw!r} is not an http(s) URL; pass e.g. --api-url https://ghe.example.com/api/v3")
    path = parts.path.rstrip("/")
    if not path and parts.hostname != "api.github.com" and not _is_loopback(parts.hostname):
        path = GHES_REST_PATH
    rest = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    graphql_path = path[: -len("/v3")] + "/graphql" if path.endswith(GHES_REST_PATH) else path + "/graphql"
    return ApiUrls(rest=rest, graphql=urlunsplit((parts.scheme, parts.netloc, graphql_path, "", "")))
