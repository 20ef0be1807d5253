"""Replays of recorded HTTP: the sandbox recordings (record_cassettes.py) and real GitHub answers recorded
by octokit.rb (convert_octokit.py). record_mode="none": nothing reaches the network, and a request the
adapter makes that was not recorded fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from vcr.serializers import yamlserializer

from migrator.errors import AuthError, InputError
from migrator.github.client import GitHubClient
from migrator.github.records import SKIP_BINARY
from migrator.github.types import ActionsPolicy, Protection
from migrator.log import TOKEN_PATTERN
from migrator.model import git_blob_sha
from tests.github import convert_octokit, record_cassettes
from tests.github.support import ADMIN, NO_WORKFLOW, TOKENS, UNKNOWN, make_client
from tests.github.vcr_config import CASSETTES, REPLAY_URL, cassette_vcr

FAKE = "ghp_" + "ReplayOnly000000000000000000000000001"


@contextmanager
def replay(name: str) -> Iterator[Any]:
    with cassette_vcr().use_cassette(f"{name}.yaml") as cassette:
        yield cassette
    assert cassette.all_played, f"{name}: recorded requests the adapter no longer makes"


def _sandbox_client(token: str = ADMIN) -> GitHubClient:
    return make_client(REPLAY_URL, token, page_size=record_cassettes.PAGE_SIZE)


# ---------------------------------------------------------------- sandbox recordings


def test_read_org_replay() -> None:
    with replay("sandbox/read_org"):
        client = _sandbox_client()
        record_cassettes.read_org(client, None)  # type: ignore[arg-type]  # the scenario ignores the sandbox
    assert client.usage.graphql_requests == 3 and client.usage.rest_requests == 12  # +2: the Actions policy
    with replay("sandbox/read_org"):
        client = _sandbox_client()
        assert client.token_info().can_push_workflows
        policy = client.actions_policy("octo")
        assert client.count_repositories("octo") == 4
        records = {r.full_name: r for r in client.repositories("octo")}
        secrets = {name: client.secret_names(name) for name in records}
    alpha, beta = records["octo/alpha"], records["octo/beta"]
    assert alpha.files[".github/workflows/ci.yml"].content == record_cassettes.CI.encode()
    assert alpha.protection == Protection(enforce_admins=True, required_checks=("ci",), required_reviews=1)
    assert alpha.topics == ("release",)
    (tags,) = alpha.rulesets
    assert (tags.name, tags.target, tags.enforcement, tags.source, tags.include) == (
        "release tags", "tag", "active", "octo/alpha", ("refs/tags/v*",))
    assert [r.type for r in tags.rules] == ["creation", "deletion"]
    assert [(b.kind, b.app_id, b.role) for b in tags.bypass] == [
        ("Integration", 77, None), ("RepositoryRole", None, "admin")]
    assert beta.rulesets == () and beta.rulesets_readable
    assert policy == ActionsPolicy(allowed_actions="selected", sha_pinning_required=True,
                                   patterns_allowed=("docker/*",))
    assert policy.allows("docker/login-action@v3") and policy.allows("actions/checkout@v4")
    assert not policy.allows("cycjimmy/semantic-release-action@v4")
    long = beta.files[".github/workflows/long.yaml"]  # truncated in GraphQL, read over REST
    assert long.content == record_cassettes.LONG.encode() and long.blob_sha == git_blob_sha(long.content)
    assert beta.skipped == {".github/workflows/bin.yml": SKIP_BINARY}
    assert records["octo/gamma"].archived and records["octo/delta"].fork
    assert secrets["octo/alpha"].repo == frozenset({"DEPLOY_KEY"})
    assert secrets["octo/alpha"].org == frozenset({"RELEASE_PAT"})


def test_shard_read_replay() -> None:
    """A shard's two passes: every name (one page), then its own repositories by name, PAGE_SIZE (2) a query."""
    with replay("sandbox/shard_read"):
        client = _sandbox_client()
        listed = list(client.repository_names("octo"))
        records = list(client.repositories_named("octo", [i for i in listed if i.full_name != "octo/gamma"]))
    assert [i.full_name for i in listed] == ["octo/alpha", "octo/beta", "octo/delta", "octo/gamma"]
    assert listed[0].default_branch == "main"
    assert [r.full_name for r in records] == ["octo/alpha", "octo/beta", "octo/delta"]
    assert records[0].files[".github/workflows/ci.yml"].content == record_cassettes.CI.encode()
    assert records[1].skipped == {".github/workflows/bin.yml": SKIP_BINARY}
    assert records[1].files[".github/workflows/long.yaml"].content == record_cassettes.LONG.encode()
    assert all(r.vanished is None for r in records)
    assert client.usage.graphql_requests == 3 and client.usage.rest_requests == 1  # names, 2 + 1 by name; a blob


def test_shrink_page_replay() -> None:
    with replay("sandbox/shrink_page"):
        client = _sandbox_client()
        assert len(list(client.repositories("octo"))) == 4
    assert client.usage.retries == 1


def test_no_workflow_scope_replay() -> None:
    with replay("sandbox/no_workflow_scope"):
        info = _sandbox_client(NO_WORKFLOW).token_info()
    assert info.scopes == ("repo",) and not info.can_push_workflows


def test_bad_token_replay() -> None:
    with replay("sandbox/bad_token"), pytest.raises(AuthError, match="401 Bad credentials"):
        _sandbox_client(UNKNOWN).token_info()


def test_unknown_org_replay() -> None:
    with replay("sandbox/unknown_org"), pytest.raises(InputError, match="no organization 'nope'"):
        next(_sandbox_client().repositories("nope"))


# ---------------------------------------------------------------- real GitHub answers


def _github(per_page: int = 100) -> GitHubClient:
    return make_client("https://api.github.com", FAKE, per_page=per_page)


def test_real_secret_lists() -> None:
    with replay("real/repo_secrets"):
        names = _github().secret_names("octokit-fixture/secret-repo")
    assert names.repo == names.org == frozenset({"SECRET_NAME", "SECRET_NAME2"})


def test_real_secret_lists_follow_link_headers() -> None:
    with replay("real/repo_secrets_paginated"):
        client = _github(per_page=1)
        names = client.secret_names("octokit-fixture/secret-repo")
    assert names.repo == names.org == frozenset({"SECRET_NAME", "SECRET_NAME2"})
    assert client.usage.rest_requests == 4


def test_real_empty_and_not_found_secret_lists() -> None:
    with replay("real/repo_secrets_unknown"):
        names = _github().secret_names("octokit-fixture/secret-repo")
    assert names.repo == frozenset() and names.org is None
    assert names.has("NPM_TOKEN") is None


def test_real_user_without_scopes_header() -> None:
    with replay("real/user_without_scopes"):
        info = _github().token_info()
    assert info.login == "<GITHUB_LOGIN>" and info.scopes is None
    assert info.can_push_workflows and not info.workflow_permission_known


def test_real_blob_decodes_to_its_id() -> None:
    oid = "94616fa57520ac8147522c7cf9f03d555595c5ea"
    with replay("real/blob"):
        content = _github().blob("sferik/rails_admin", oid)
    assert content is not None and len(content) == 25325 and git_blob_sha(content) == oid


@pytest.mark.skipif(not convert_octokit.SOURCE.is_dir(), reason="octokit.rb recordings are not available")
def test_converted_cassettes_are_reproducible(tmp_path: Path) -> None:
    for written in convert_octokit.convert(out=tmp_path):
        assert written.read_text() == (CASSETTES / "real" / written.name).read_text(), written.name


# ---------------------------------------------------------------- no secrets in any cassette


def _cassette_files() -> list[Path]:
    return sorted(p for p in CASSETTES.rglob("*") if p.is_file())


def test_there_are_cassettes() -> None:
    names = {p.relative_to(CASSETTES).as_posix() for p in _cassette_files()}
    assert {"sandbox/read_org.yaml", "real/repo_secrets.yaml", "real/PROVENANCE.md"} <= names


@pytest.mark.parametrize("path", _cassette_files(), ids=lambda p: p.relative_to(CASSETTES).as_posix())
def test_no_token_in_a_cassette(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for token in (*TOKENS, FAKE):
        assert token not in text
    assert not TOKEN_PATTERN.search(text)
    if path.suffix == ".yaml":
        for interaction in yamlserializer.deserialize(text)["interactions"]:
            assert not {h.lower() for h in interaction["request"]["headers"]} & {"authorization", "cookie"}
