"""GitHub Apps: seed entries, JWT authentication, the App endpoints and installation tokens.

An org meta file declares the Apps installed on the org (see `seed`):

    "apps": [{"id": 123, "public_key": "-----BEGIN PUBLIC KEY-----\\n...", "installation_id": 456,
              "permissions": {"contents": "write", "pull_requests": "write", "workflows": "write"},
              "slug": "optional", "name": "optional", "repositories": ["optional: selected repositories"]}]

The App authenticates with a JWT it signs (RS256) with its private key: `iss` is its id, `iat` not in the
future and `exp` in the future but at most ten minutes ahead, all on the sandbox's clock, as GitHub checks
them. With the JWT, and only with it, it may call

    GET  /app                                 GET /app/installations      GET /app/installations/{id}
    GET  /orgs/{org}/installation             GET /repos/{owner}/{repo}/installation
    GET  /users/{login}/installation          POST /app/installations/{id}/access_tokens (201)

The last mints an installation token: `ghs_` and a random tail whose length varies (GitHub promises no
length), living `Settings.installation_token_ttl` seconds of the sandbox's clock, with the installation's
permissions (or the subset asked for). The token's `Power` follows from them (`Power.for_permissions`).
An expired or revoked token is "Bad credentials" everywhere. A JWT is no credential for any other endpoint.
"""

from __future__ import annotations

import math
import re
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

from migrator.sandbox import shapes
from migrator.sandbox.http import ApiError, Request, Response
from migrator.sandbox.settings import Settings
from migrator.sandbox.store import (
    INSTALLATION_TOKEN_PREFIX,
    PERMISSION_LEVELS,
    GitHubApp,
    Installation,
    InstallationToken,
    Store,
    node_id,
)

Json = dict[str, Any]
APPS_DOCS = "https://docs.github.com/rest/apps/apps"
JWT_DOCS = "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app"
NOT_A_JWT = "A JSON web token could not be decoded"
BAD_EXP = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
    "assertion expires"
)
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
BAD_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
NO_INTEGRATION = "Integration not found"
NOT_FOR_INTEGRATIONS = "Resource not accessible by integration"
MAX_JWT_LIFETIME = 600  # GitHub: exp at most ten minutes into the future
TOKEN_TAIL = (30, 90)  # installation tokens are ghs_ plus 30 to 90 characters, so nothing relies on 36
_ALPHABET = string.ascii_letters + string.digits


# ---------------------------------------------------------------- seed


def install_from_seed(store: Store, org: str, raw: Any) -> None:
    """Register the `apps` of an org meta file. Raises ValueError saying what is wrong."""
    if not isinstance(raw, list):
        raise ValueError('"apps" must be a list of {"id", "public_key", "installation_id", "permissions"}')
    for entry in raw:
        store.install_app(*parse_app(org, entry))


def parse_app(org: str, entry: Any) -> tuple[GitHubApp, Installation]:
    if not isinstance(entry, dict):
        raise ValueError("each app must be an object")
    missing = [k for k in ("id", "public_key", "installation_id") if k not in entry]
    if missing:
        raise ValueError(f"an app needs {', '.join(missing)}")
    try:
        app_id, installation_id = int(entry["id"]), int(entry["installation_id"])
    except (TypeError, ValueError) as error:
        raise ValueError("an app's id and installation_id must be numbers") from error
    key = entry["public_key"]
    if not isinstance(key, str) or "PUBLIC KEY" not in key:
        raise ValueError(f"app {app_id}: public_key must be a PEM public key")
    permissions = entry.get("permissions", {"metadata": "read"})
    if not isinstance(permissions, dict) or any(
        not isinstance(k, str) or v not in PERMISSION_LEVELS for k, v in permissions.items()
    ):
        raise ValueError(f"app {app_id}: permissions must map names to read, write or admin")
    slug = str(entry.get("slug") or f"app-{app_id}")
    app = GitHubApp(
        id=app_id,
        slug=slug,
        name=str(entry.get("name") or slug),
        public_key=key,
        owner=org,
        permissions=dict(permissions),
    )
    selected = entry.get("repositories")
    if selected is not None and (not isinstance(selected, list) or not all(isinstance(r, str) for r in selected)):
        raise ValueError(f"app {app_id}: repositories must be a list of repository names (omit it for all)")
    repositories = tuple(r.rsplit("/", 1)[-1] for r in selected) if selected is not None else None
    installation = Installation(
        id=installation_id, app_id=app_id, account=org, permissions=dict(permissions), repositories=repositories
    )
    return app, installation


# ---------------------------------------------------------------- which requests are ours

_JWT_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{pattern}/?$"), name)
    for method, pattern, name in (
        ("GET", "/app", "app"),
        ("GET", "/app/installations", "installations"),
        ("GET", r"/app/installations/(?P<id>[0-9]+)", "installation"),
        ("POST", r"/app/installations/(?P<id>[0-9]+)/access_tokens", "access_tokens"),
        ("GET", "/orgs/(?P<owner>[^/]+)/installation", "owner_installation"),
        ("GET", "/users/(?P<owner>[^/]+)/installation", "owner_installation"),
        ("GET", "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/installation", "repo_installation"),
    )
]


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def jwt_route(request: Request) -> tuple[str, dict[str, str]] | None:
    """The App endpoint `request` addresses (answered with a JWT only), or None."""
    for method, pattern, name in _JWT_ROUTES:
        match = pattern.match(request.path)
        if match is not None and method == request.method:
            return name, match.groupdict()
    return None


def is_app_path(request: Request) -> bool:
    """A path only a JWT may use, whatever the method (a wrong method is the App API's 404, not another one's)."""
    return any(pattern.match(request.path) for _method, pattern, _name in _JWT_ROUTES)


# ---------------------------------------------------------------- the JWT


def authenticate(store: Store, token: str) -> GitHubApp:
    """The App whose JWT `token` is, checked as GitHub checks it; else the 401 GitHub answers."""
    import jwt  # PyJWT (with cryptography) comes with PyGithub; imported only when an App calls

    if not looks_like_jwt(token):
        raise ApiError(401, NOT_A_JWT, documentation_url=JWT_DOCS)
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise ApiError(401, NOT_A_JWT, documentation_url=JWT_DOCS) from error
    if header.get("alg") != "RS256":
        raise ApiError(401, NOT_A_JWT, documentation_url=JWT_DOCS)
    try:
        app = store.apps.get(int(str(claims.get("iss"))))
    except ValueError:
        app = None
    if app is None:
        raise ApiError(401, NO_INTEGRATION, documentation_url=JWT_DOCS)
    try:
        jwt.decode(
            token,
            app.public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise ApiError(401, NOT_A_JWT, documentation_url=JWT_DOCS) from error
    _check_times(claims, store.clock())
    return app


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
    if exp is None or exp <= now:
        raise ApiError(401, BAD_EXP, documentation_url=JWT_DOCS)
    if exp > now + MAX_JWT_LIFETIME:
        raise ApiError(401, EXP_TOO_FAR, documentation_url=JWT_DOCS)
    if iat is None or iat > now:
        raise ApiError(401, BAD_IAT, documentation_url=JWT_DOCS)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


# ---------------------------------------------------------------- the endpoints


def serve(store: Store, settings: Settings, request: Request, route: tuple[str, dict[str, str]]) -> Response:
    """Answer an App endpoint for the App whose JWT the request carries (raises ApiError)."""
    app = authenticate(store, request.token)
    name, groups = route
    handlers: dict[str, Callable[[], Response]] = {
        "app": lambda: Response(200, app_json(request.api_base, store, app)),
        "installations": lambda: Response(
            200, [installation_json(request.api_base, store, i) for i in _installations(store, app)]
        ),
        "installation": lambda: Response(
            200, installation_json(request.api_base, store, _installation(store, app, groups["id"]))
        ),
        "access_tokens": lambda: _mint(store, settings, request, _installation(store, app, groups["id"])),
        "owner_installation": lambda: Response(
            200, installation_json(request.api_base, store, _installation_on(store, app, groups["owner"]))
        ),
        "repo_installation": lambda: Response(
            200, installation_json(request.api_base, store, _repo_installation(store, app, groups))
        ),
    }
    return handlers[name]()


def _installations(store: Store, app: GitHubApp) -> list[Installation]:
    return sorted((i for i in store.installations.values() if i.app_id == app.id), key=lambda i: i.id)


def _not_found() -> ApiError:
    return ApiError(404, "Not Found", documentation_url=APPS_DOCS)


def _installation(store: Store, app: GitHubApp, raw_id: str) -> Installation:
    found = store.installations.get(int(raw_id))
    if found is None or found.app_id != app.id:
        raise _not_found()
    return found


def _installation_on(store: Store, app: GitHubApp, owner: str) -> Installation:
    found = next((i for i in _installations(store, app) if i.account.lower() == owner.lower()), None)
    if found is None:
        raise _not_found()
    return found


def _repo_installation(store: Store, app: GitHubApp, groups: Mapping[str, str]) -> Installation:
    if store.repo(groups["owner"], groups["repo"]) is None:
        raise _not_found()
    return _installation_on(store, app, groups["owner"])


def _mint(store: Store, settings: Settings, request: Request, installation: Installation) -> Response:
    body = request.json_object()
    if body.get("repositories") or body.get("repository_ids"):
        raise ApiError(
            422, "The sandbox mints tokens for all repositories of an installation only", documentation_url=APPS_DOCS
        )
    permissions = granted(installation, body.get("permissions"))
    token = new_token(store)
    expires_at = float(math.floor(store.clock()) + settings.installation_token_ttl)
    store.add_installation_token(token, InstallationToken(installation.id, permissions, expires_at))
    return Response(
        201,
        {
            "token": token,
            "expires_at": shapes.iso(expires_at),
            "permissions": dict(permissions),
            "repository_selection": "all",
        },
    )


def granted(installation: Installation, asked: Any) -> dict[str, str]:
    """The installation's permissions, or the subset asked for (422 when more is asked than granted)."""
    if not asked:
        return dict(installation.permissions)
    if not isinstance(asked, dict):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/permissions', it is not an object.")
    for name, level in asked.items():
        have = PERMISSION_LEVELS.get(installation.permissions.get(name, ""), 0)
        if PERMISSION_LEVELS.get(str(level), 99) > have:
            raise ApiError(
                422, "The permissions requested are not granted to this installation.", documentation_url=APPS_DOCS
            )
    return {str(k): str(v) for k, v in asked.items()}


def new_token(store: Store) -> str:
    low, high = TOKEN_TAIL
    while True:
        tail = "".join(secrets.choice(_ALPHABET) for _ in range(low + secrets.randbelow(high - low + 1)))
        token = INSTALLATION_TOKEN_PREFIX + tail
        if token not in store.installation_tokens:
            return token


# ---------------------------------------------------------------- shapes


def client_id(app: GitHubApp) -> str:
    return f"Iv1.{app.id:016x}"


def app_json(base: str, store: Store, app: GitHubApp) -> Json:
    web = shapes.web_root(base)
    org = store.org(app.owner)
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": node_id("Integration", str(app.id)),
        "client_id": client_id(app),
        "owner": shapes.org_owner(base, org) if org else None,
        "name": app.name,
        "description": "",
        "external_url": web,
        "html_url": f"{web}/apps/{app.slug}",
        "created_at": shapes.iso(1704067200),
        "updated_at": shapes.iso(1704067200),
        "permissions": dict(app.permissions),
        "events": [],
        "installations_count": len(_installations(store, app)),
    }


def installation_json(base: str, store: Store, installation: Installation) -> Json:
    app = store.apps[installation.app_id]
    org = store.org(installation.account)
    return {
        "id": installation.id,
        "client_id": client_id(app),
        "account": shapes.org_owner(base, org) if org else None,
        "repository_selection": "all" if installation.repositories is None else "selected",
        "access_tokens_url": f"{base}/app/installations/{installation.id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": (
            f"{shapes.web_root(base)}/organizations/{installation.account}/settings/installations/{installation.id}"
        ),
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": org.id if org else None,
        "target_type": "Organization",
        "permissions": dict(installation.permissions),
        "events": [],
        "created_at": shapes.iso(installation.created_at),
        "updated_at": shapes.iso(installation.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }
