"""A fake GitHubReader whose state tests assert, built from plain dicts of files."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from migrator.github.types import ActionsPolicy, ListedRepo, Protection, RepoRecord, SecretNames, TokenInfo, Usage
from migrator.model import RepoFile, git_blob_sha


def record(
    name: str,
    files: Mapping[str, str | bytes],
    *,
    protection: Protection | None = None,
    **flags: object,
) -> RepoRecord:
    contents = {p: (c.encode() if isinstance(c, str) else c) for p, c in files.items()}
    head = git_blob_sha(repr(sorted(contents.items())).encode())  # any stable 40-hex oid will do
    return RepoRecord(
        full_name=name,
        default_branch="main",
        head_oid=head,
        protection=protection or Protection(),
        files={p: RepoFile(p, c) for p, c in sorted(contents.items())},
        **flags,  # type: ignore[arg-type]
    )


@dataclass
class FakeReader:
    records: list[RepoRecord]
    secrets: dict[str, SecretNames] = field(default_factory=dict)
    token: TokenInfo = field(default_factory=lambda: TokenInfo("bot", ("repo", "workflow"), True))
    usage: Usage = field(default_factory=Usage)
    api_url: str = "https://api.github.com"
    secret_lookups: list[str] = field(default_factory=list)
    read_by_name: list[str] = field(default_factory=list)

    def token_info(self) -> TokenInfo:
        return self.token

    def count_repositories(self, org: str) -> int:
        return len(self.records)

    def repositories(self, org: str, *, campaign_branch: str | None = None) -> Iterator[RepoRecord]:
        self.usage.graphql_requests += 1
        yield from self.records

    def repository_names(self, org: str) -> Iterator[ListedRepo]:
        self.usage.graphql_requests += 1
        yield from (ListedRepo(r.full_name, r.default_branch) for r in self.records)

    def repositories_named(
        self, org: str, listed: Sequence[ListedRepo], *, campaign_branch: str | None = None
    ) -> Iterator[RepoRecord]:
        self.usage.graphql_requests += 1
        self.read_by_name.extend(item.full_name for item in listed)
        by_name = {r.full_name: r for r in self.records}
        yield from (by_name[item.full_name] for item in listed)

    org_wide: frozenset[str] | None = None

    def org_secret_names(self, org: str) -> frozenset[str] | None:
        return self.org_wide

    policy: ActionsPolicy = field(default_factory=ActionsPolicy)

    def actions_policy(self, org: str) -> ActionsPolicy:
        self.usage.rest_requests += 1
        return self.policy

    def secret_names(self, full_name: str) -> SecretNames:
        self.secret_lookups.append(full_name)
        return self.secrets.get(full_name, SecretNames(frozenset(), frozenset()))
