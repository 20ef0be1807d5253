from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from migrator import log
from migrator.errors import AuthError, UsageError
from migrator.github.auth import (
    NO_TOKEN,
    AppCredentials,
    CredentialSources,
    InstallationAuth,
    TokenCredentials,
    resolve_credentials,
)
from migrator.github.client import connect

TOKEN = "ghp_" + "AuthTest000000000000000000000000000001"
OTHER = "gho_" + "AuthTest000000000000000000000000000002"
KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtestkeylinethatislongenough\n-----END RSA PRIVATE KEY-----\n"


def _sources(env: dict[str, str] | None = None, gh: str | None = None) -> CredentialSources:
    return CredentialSources(env=env or {}, gh_token=lambda _host: gh)


def test_explicit_token_wins() -> None:
    found = resolve_credentials(token=TOKEN, sources=_sources({"GITHUB_TOKEN": OTHER}))
    assert found == TokenCredentials(TOKEN, "--token")


@pytest.mark.parametrize(
    ("env", "gh", "source"),
    [
        ({"GITHUB_TOKEN": TOKEN, "GH_TOKEN": OTHER}, OTHER, "GITHUB_TOKEN"),
        ({"GH_TOKEN": TOKEN}, OTHER, "GH_TOKEN"),
        ({"GITHUB_TOKEN": "  "}, TOKEN, "gh auth token"),
    ],
)
def test_token_from_the_environment_then_gh(env: dict[str, str], gh: str | None, source: str) -> None:
    found = resolve_credentials(sources=_sources(env, gh))
    assert isinstance(found, TokenCredentials) and found.token == TOKEN and found.source == source


def test_missing_token_says_how_to_provide_one() -> None:
    with pytest.raises(AuthError) as caught:
        resolve_credentials(sources=_sources())
    assert caught.value.message == NO_TOKEN and "\n" not in NO_TOKEN


def test_gh_is_asked_for_the_enterprise_host() -> None:
    hosts: list[str | None] = []

    def gh(host: str | None) -> str:
        hosts.append(host)
        return TOKEN

    sources = CredentialSources(env={"GITHUB_API_URL": "https://ghe.example.com/api/v3"}, gh_token=gh)
    client = connect(sources=sources)
    assert hosts == ["ghe.example.com"] and client.api_url == "https://ghe.example.com/api/v3"
    connect(sources=CredentialSources(env={}, gh_token=gh))
    assert hosts[-1] is None


def test_tokens_are_registered_and_never_in_a_repr() -> None:
    credentials = TokenCredentials("plain-token-value-1234", "GH_TOKEN")
    assert "plain-token-value-1234" not in repr(credentials)
    assert log.redact("sent plain-token-value-1234") == "sent ***"
    client = connect(token="plain-token-value-1234", api_url="http://127.0.0.1:9", sources=_sources())
    assert "plain-token-value-1234" not in repr(client)


def test_app_credentials_read_the_key_file(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(KEY)
    found = resolve_credentials(app_id=42, app_key_path=key, installation_id="7", sources=_sources({"GH_TOKEN": TOKEN}))
    assert found == AppCredentials("42", KEY, 7)
    assert "PRIVATE" not in repr(found) and "MIIE" not in repr(found)
    assert "MIIE" not in log.redact(KEY)
    assert log.redact("line MIIEowIBAAKCAQEAtestkeylinethatislongenough") == "line ***"


def test_app_flags_must_come_together(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="all of --app-id, --app-key and --installation-id"):
        resolve_credentials(app_id=42, sources=_sources())
    with pytest.raises(UsageError, match="must be a number"):
        resolve_credentials(app_id=42, app_key_path=tmp_path, installation_id="x", sources=_sources())
    with pytest.raises(AuthError, match="cannot read the GitHub App private key"):
        resolve_credentials(app_id=42, app_key_path=tmp_path / "nope.pem", installation_id=1, sources=_sources())
    (tmp_path / "bad.pem").write_text("hello")
    with pytest.raises(AuthError, match="does not hold a PEM private key"):
        resolve_credentials(app_id=42, app_key_path=tmp_path / "bad.pem", installation_id=1, sources=_sources())


class _Authorization:
    token = "ghs_" + "InstallationToken00000000000000000000001"
    permissions: ClassVar[dict[str, str]] = {"contents": "write", "workflows": "write"}


def test_installation_auth_registers_each_token_and_keeps_its_permissions(monkeypatch: pytest.MonkeyPatch) -> None:
    from github import Auth

    monkeypatch.setattr(Auth.AppInstallationAuth, "_get_installation_authorization", lambda self: _Authorization())
    auth = InstallationAuth(Auth.AppAuth("42", KEY), 7)
    got: Any = auth._get_installation_authorization()
    assert got.token == _Authorization.token and auth.granted["workflows"] == "write"
    assert log.redact(f"token {_Authorization.token}") == "token ***"
    assert _Authorization.token not in repr(auth)


def test_app_token_info_reports_the_workflows_permission(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from github import Auth

    monkeypatch.setattr(Auth.AppInstallationAuth, "_get_installation_authorization", lambda self: _Authorization())
    key = tmp_path / "app.pem"
    key.write_text(KEY)
    client = connect(app_id=42, app_key_path=key, installation_id=7, api_url="http://127.0.0.1:9", sources=_sources())
    info = client.token_info()
    assert (info.kind, info.scopes, info.can_push_workflows) == ("app", None, True)
    assert info.login == "app 42 (installation 7)"
    _Authorization.permissions = {"contents": "write"}
    try:
        fresh = connect(app_id=42, app_key_path=key, installation_id=7, api_url="http://127.0.0.1:9",
                        sources=_sources())
        assert not fresh.token_info().can_push_workflows
    finally:
        _Authorization.permissions = {"contents": "write", "workflows": "write"}
