"""`actions/create-github-app-token` (README and `action.yml` of v2): an App installation token for the job.

Inputs: `app-id` (the App's id, or its client id, which GitHub takes as the JWT issuer too) and `private-key`
(required); `owner` and `repositories` (comma or newline separated). With neither, the token is for the current
repository; with `owner` only, for all the repositories of the owner's installation. `permission-<name>: read|write`
asks for a subset of the installation's permissions. Outputs `token`, `installation-id` and `app-slug`.

The action signs a JWT with the key and mints the token from the installation; the model checks what GitHub
would: the key must be the App's (its public key matches the App's), the App must be installed on the owner and
cover the repositories asked for, and the permissions must be granted. The token is then a credential of the job
(`<slug>[bot]`, its App for rulesets), like any installation token, living the installation-token lifetime.
"""

from __future__ import annotations

import math
import re

from migrator.sandbox import apps
from migrator.sandbox.actions.credentials import Credential
from migrator.sandbox.actions.runtime import JobContext, StepOutcome
from migrator.sandbox.http import ApiError
from migrator.sandbox.rulesets import Actor
from migrator.sandbox.store import GitHubApp, InstallationToken, Power

TOKEN_TTL = 3600  # GitHub: an installation token expires after one hour


def create_app_token(ctx: JobContext, inputs: dict[str, str]) -> StepOutcome:
    app = _app(ctx, inputs.get("app-id", "").strip())
    key = inputs.get("private-key", "")
    if not inputs.get("app-id", "").strip() or not key.strip():
        return _failed("Input required and not supplied: " + ("private-key" if inputs.get("app-id") else "app-id"))
    if app is None:
        return _failed("Integration not found")
    if not _key_matches(key, app.public_key):
        return _failed("A JSON web token could not be decoded")
    owner = inputs.get("owner", "").strip() or ctx.repo.org
    names = [r.strip() for r in re.split(r"[,\n]", inputs.get("repositories", "")) if r.strip()]
    if not inputs.get("owner", "").strip() and not names:
        names = [ctx.repo.name]
    installation = next(
        (i for i in ctx.store.installations.values() if i.app_id == app.id and i.account.lower() == owner.lower()),
        None,
    )
    if installation is None:
        return _failed(f'Failed to create token for "{owner}" (attempt 1): Not Found')
    if not all(installation.covers(name) for name in names):
        return _failed(
            "There is at least one repository that does not exist or is not accessible to the parent installation."
        )
    asked = {k[len("permission-") :].replace("-", "_"): v for k, v in inputs.items() if k.startswith("permission-")}
    try:
        permissions = apps.granted(installation, asked)
    except ApiError as error:
        return _failed(error.message)
    token = apps.new_token(ctx.store)
    expires = float(math.floor(ctx.store.clock()) + TOKEN_TTL)
    ctx.store.add_installation_token(token, InstallationToken(installation.id, permissions, expires))
    login = f"{app.slug}[bot]"
    credential = Credential("an App installation token", login, Power.for_permissions(permissions), value=token,
                            actor=Actor(login, app_id=app.id))
    ctx.known[token] = credential
    outputs = {"token": token, "installation-id": str(installation.id), "app-slug": app.slug}
    return StepOutcome("success", (f"Created an installation token for {owner} as {login}",), outputs)


def _app(ctx: JobContext, raw: str) -> GitHubApp | None:
    if raw.isdigit():
        return ctx.store.apps.get(int(raw))
    return next((a for a in ctx.store.apps.values() if apps.client_id(a) == raw), None)


def _key_matches(private_pem: str, public_pem: str) -> bool:
    from cryptography.hazmat.primitives import serialization  # comes with PyJWT[crypto], which PyGithub needs

    try:
        key = serialization.load_pem_private_key(private_pem.replace("\\n", "\n").encode(), password=None)
        public = serialization.load_pem_public_key(public_pem.encode())
    except (ValueError, TypeError):
        return False
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(*spki) == public.public_bytes(*spki)


def _failed(message: str) -> StepOutcome:
    return StepOutcome("failure", (f"Error: {message}",))
