"""Credentials: a token (argument, GITHUB_TOKEN, GH_TOKEN or `gh auth token`) or a GitHub App installation.

Every credential is registered with `migrator.log.register_secret` the moment it is known, and
no credential holder shows its secret in a repr.

A GitHub App works as GitHub documents: a JWT signed with the App's private key (RS256, `iss` the App id,
`iat` a minute back, `exp` five minutes ahead) buys an installation token (`POST
/app/installations/{id}/access_tokens`), which then authenticates every request until shortly before its
`expires_at` (an hour on GitHub), when the next request mints a new one. The JWT's claims and the
judgement of expiry both go by `_now` unless given another clock. A token GitHub refuses anyway (401:
clocks disagree, or it was revoked) is dropped with `renew()`; the transport then sends the request once
more with a fresh token.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from github import Auth

from migrator.errors import AuthError, UsageError
from migrator.log import register_secret

TOKEN_ENV_VARS = ("GITHUB_TOKEN", "GH_TOKEN")
NO_TOKEN = (
    "no GitHub token found; set GITHUB_TOKEN (or GH_TOKEN), run `gh auth login`, "
    "or pass --app-id, --app-key and --installation-id"
)
GhTokenReader = Callable[[str | None], str | None]
Clock = Callable[[], float]
REFRESH_MARGIN = 20.0  # seconds before `expires_at` a token is replaced, as PyGithub does


def _now() -> float:
    """The time App credentials go by (JWT claims, token expiry). A module-level seam: tests put a fake clock here."""
    return time.time()


@dataclass(frozen=True, repr=False)
class TokenCredentials:
    token: str
    source: str  # where it came from, for messages: "GITHUB_TOKEN", "gh auth token", ...

    def __post_init__(self) -> None:
        register_secret(self.token)

    def __repr__(self) -> str:
        return f"TokenCredentials(source={self.source!r}, token=***)"

    def pygithub_auth(self) -> Any:
        return Auth.Token(self.token)


@dataclass(frozen=True, repr=False)
class AppCredentials:
    app_id: str
    private_key: str
    installation_id: int
    source: str = "the GitHub App's --app-id, --app-key and --installation-id"

    def __post_init__(self) -> None:
        register_secret(self.private_key)
        for line in self.private_key.splitlines():  # a key logged line by line is redacted too
            if len(line) >= 16 and "PRIVATE KEY" not in line:
                register_secret(line.strip())

    def __repr__(self) -> str:
        return f"AppCredentials(app_id={self.app_id!r}, installation_id={self.installation_id}, private_key=***)"

    def pygithub_auth(self) -> InstallationAuth:
        return InstallationAuth(AppJwtAuth(self.app_id, self.private_key), self.installation_id)


Credentials = TokenCredentials | AppCredentials


class AppJwtAuth(Auth.AppAuth):
    """PyGithub's App auth (the JWT), with its claims on `clock` rather than on time.time()."""

    def __init__(self, app_id: str, private_key: str, *, clock: Clock | None = None) -> None:
        super().__init__(app_id, private_key)
        self._clock = clock

    def create_jwt(self, expiration: int | None = None) -> str:
        now = int((self._clock or _now)())
        payload = {
            "iat": now + self._jwt_issued_at,
            "exp": now + (expiration if expiration is not None else self._jwt_expiry),
            "iss": self._app_id,
        }
        assert self._sign_func is not None  # PyGithub builds it from the private key
        signed = self._sign_func(payload)
        token = signed.decode("utf-8") if isinstance(signed, bytes) else str(signed)
        register_secret(token)
        return token

    def __repr__(self) -> str:
        return f"AppJwtAuth(app_id={self._app_id!r}, private_key=***)"


class InstallationAuth(Auth.AppInstallationAuth):
    """PyGithub's installation auth, minting a new token shortly before the current one expires (by `clock`),
    registering each token as a secret, and keeping the permissions it was granted.

    `before_mint` is called before every minting request (the transport counts them); `renew()` drops a token
    GitHub refused, so that the next request mints another.
    """

    granted: dict[str, str]

    def __init__(
        self,
        app_auth: Any,
        installation_id: int,
        *,
        clock: Clock | None = None,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        super().__init__(app_auth, installation_id)
        self.granted = {}
        self.before_mint: Callable[[], None] | None = None
        self._clock = clock
        self._margin = refresh_margin
        self._lock = threading.RLock()
        self._current: Any = None
        self._expires_at: float | None = None  # epoch seconds; None: GitHub did not say

    @property
    def token(self) -> str:
        with self._lock:
            self.refresh_if_due()
            return str(self._current.token)

    def refresh_if_due(self) -> None:
        """Mint a token when there is none or the current one is about to expire."""
        with self._lock:
            if self._current is None or self._expiring():
                self._current = self._get_installation_authorization()

    def _expiring(self) -> bool:
        return self._expires_at is not None and self._expires_at - self._margin <= (self._clock or _now)()

    def renew(self) -> None:
        """Forget the current token (GitHub refused it); the next request mints a new one."""
        with self._lock:
            self._current = None

    def _get_installation_authorization(self) -> Any:
        if self.before_mint is not None:
            self.before_mint()
        authorization = super()._get_installation_authorization()
        register_secret(authorization.token)
        self.granted = dict(authorization.permissions or {})
        expires_at = getattr(authorization, "expires_at", None)
        self._expires_at = expires_at.timestamp() if expires_at is not None else None
        return authorization

    def __repr__(self) -> str:
        return f"InstallationAuth(installation_id={self.installation_id}, token=***)"


def gh_cli_token(hostname: str | None) -> str | None:
    """The token `gh auth token` prints, when `gh` is installed and logged in; else None."""
    gh = shutil.which("gh")
    if gh is None:
        return None
    command = [gh, "auth", "token"] + (["--hostname", hostname] if hostname else [])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    token = done.stdout.strip()
    return token if done.returncode == 0 and token else None


@dataclass(frozen=True, kw_only=True, repr=False)
class CredentialSources:
    """Where credentials may come from; tests swap the environment and the `gh` reader."""

    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    gh_token: GhTokenReader = gh_cli_token


def resolve_credentials(
    *,
    token: str | None = None,
    app_id: str | int | None = None,
    app_key_path: str | Path | None = None,
    installation_id: int | str | None = None,
    gh_hostname: str | None = None,
    sources: CredentialSources | None = None,
) -> Credentials:
    """An explicit token, else a GitHub App, else GITHUB_TOKEN / GH_TOKEN, else `gh auth token`."""
    where = sources or CredentialSources()
    if token:
        return TokenCredentials(token, "--token")
    app_parts = (app_id, app_key_path, installation_id)
    if any(part not in (None, "") for part in app_parts):
        return _app_credentials(app_id, app_key_path, installation_id)
    for name in TOKEN_ENV_VARS:
        value = where.env.get(name, "").strip()
        if value:
            return TokenCredentials(value, name)
    from_gh = where.gh_token(gh_hostname)
    if from_gh:
        return TokenCredentials(from_gh, "gh auth token")
    raise AuthError(NO_TOKEN)


def _app_credentials(
    app_id: str | int | None, app_key_path: str | Path | None, installation_id: int | str | None
) -> AppCredentials:
    if app_id in (None, "") or app_key_path in (None, "") or installation_id in (None, ""):
        raise UsageError("a GitHub App needs all of --app-id, --app-key and --installation-id")
    try:
        installation = int(str(installation_id))
    except ValueError as error:
        raise UsageError(f"--installation-id must be a number, not {installation_id!r}") from error
    key_path = Path(str(app_key_path))
    try:
        private_key = key_path.read_text(encoding="utf-8")
    except OSError as error:
        raise AuthError(
            f"cannot read the GitHub App private key {key_path}: {error.strerror}; pass the .pem file GitHub generated"
        ) from error
    if "PRIVATE KEY" not in private_key:
        raise AuthError(f"{key_path} does not hold a PEM private key; pass the .pem file GitHub generated")
    return AppCredentials(str(app_id), private_key, installation)
