"""Requests, responses and API errors, independent of the HTTP server."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

DOCS = "https://docs.github.com/rest"
GHES_PREFIX = "/api/v3"  # GitHub Enterprise Server serves REST here; the sandbox serves it here and at the root


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    base_url: str  # scheme://host[:port] as the client addressed us
    prefix: str = ""  # GHES_PREFIX when the client addressed REST under it (then `path` is what follows it)

    @property
    def api_base(self) -> str:
        """Where REST lives for this client: URLs the sandbox hands out (Link, `url`, Location) start here."""
        return self.base_url + self.prefix

    @property
    def full_path(self) -> str:
        """The path as the client sent it."""
        return self.prefix + self.path

    def without_prefix(self) -> Request:
        """REST under /api/v3/... is served as at the root, remembering the prefix for the URLs it hands out."""
        if self.prefix or not (self.path == GHES_PREFIX or self.path.startswith(GHES_PREFIX + "/")):
            return self
        return replace(self, path=self.path[len(GHES_PREFIX) :] or "/", prefix=GHES_PREFIX)

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str], body: bytes, scheme: str = "http") -> Request:
        path, _, query = target.partition("?")
        lowered = {k.lower(): v for k, v in headers.items()}
        host = lowered.get("host", "127.0.0.1")
        return cls(
            method.upper(), path, tuple(parse_qsl(query, keep_blank_values=True)), lowered, body, f"{scheme}://{host}"
        )

    def param(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.query if k == name), default)

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise ApiError(400, "Problems parsing JSON") from error

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data

    @property
    def token(self) -> str:
        auth = self.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() in ("token", "bearer") else ""


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode()


class ApiError(Exception):
    """An error answered as GitHub answers it: a status and a JSON body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,  # objects, or the plain strings some refusals carry
        documentation_url: str = DOCS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = dict(headers or {})

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        return Response(self.status, body, dict(self.headers))


def not_found(documentation_url: str = DOCS) -> ApiError:
    return ApiError(404, "Not Found", documentation_url=documentation_url)


def validation_failed(
    resource: str,
    *,
    code: str = "custom",
    field: str | None = None,
    message: str | None = None,
    documentation_url: str = DOCS,
) -> ApiError:
    error: dict[str, Any] = {"resource": resource, "code": code}
    if field is not None:
        error["field"] = field
    if message is not None:
        error["message"] = message
    return ApiError(422, "Validation Failed", errors=[error], documentation_url=documentation_url)
