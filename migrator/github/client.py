"""`GitHubClient`: the whole adapter (`GitHubReader`, and the executor's `Writer` and `StatusReader`), and
`connect` to build one from flags/env."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from github import Github, GithubException
from requests.utils import parse_header_links

from migrator.errors import InputError, RemoteError
from migrator.github import listing, queries
from migrator.github.auth import (
    AppCredentials,
    Credentials,
    CredentialSources,
    InstallationAuth,
    resolve_credentials,
)
from migrator.github.installations import AppInstallation, read_installation
from migrator.github.paging import MAX_CONCURRENT, PageSize, ReadGate, ordered_map
from migrator.github.records import (
    SKIP_MISMATCH,
    BlobRef,
    ParsedRepo,
    parse_repository,
    skip_too_large,
    with_fetched,
)
from migrator.github.retry import RetryPolicy
from migrator.github.status import StatusMethods
from migrator.github.transport import GraphQLAnswer, GraphQLError, PageTooSlow, Transport
from migrator.github.types import ActionsPolicy, ListedRepo, RepoRecord, SecretNames, TokenInfo, Usage
from migrator.github.urls import ApiUrls, resolve_api_urls
from migrator.github.verify import IssueMethods, VerifyMethods
from migrator.github.writer import WriteMethods
from migrator.log import get_logger
from migrator.model import git_blob_sha

if TYPE_CHECKING:
    from migrator.apply.ports import StatusReader, Writer

Json = dict[str, Any]
USER_AGENT = "migrator (+https://github.com/PyGithub/PyGithub)"
NAMES_PER_PAGE = 100  # GitHub's largest page; a names-only page costs one point


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    page_size: int = 50  # repositories per GraphQL page; halved on 502/504/timeouts, grown back after
    grow_after: int = 3
    per_page: int = 100  # REST list pages
    timeout: int = 30  # seconds per HTTP request
    jobs: int = 1  # reads in flight at once (`--jobs`); writes are always one at a time
    max_blob_bytes: int = 1_000_000  # larger files are skipped, not read
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # PyGithub's client-side throttles stay off: the executor's Pacer paces content-creating writes.
    seconds_between_requests: float | None = None
    seconds_between_writes: float | None = None


class GitHubClient(WriteMethods, StatusMethods, VerifyMethods, IssueMethods):
    """Reads an organisation in bulk (one GraphQL query per page of repositories, REST for the rest), and
    writes for the executor: one request per write, never retried here (see `writer`)."""

    def __init__(self, *, credentials: Credentials, urls: ApiUrls, settings: ClientSettings | None = None) -> None:
        self.settings = settings or ClientSettings()
        self.urls = urls
        self.usage = Usage()
        self._credentials = credentials
        self._auth = credentials.pygithub_auth()
        self._github = Github(
            auth=self._auth,
            base_url=urls.rest,
            retry=None,  # the only retry layer is ours (migrator.github.retry)
            per_page=self.settings.per_page,
            timeout=self.settings.timeout,
            user_agent=USER_AGENT,
            seconds_between_requests=self.settings.seconds_between_requests,
            seconds_between_writes=self.settings.seconds_between_writes,
        )
        self.transport = Transport(
            self._github.requester, urls, self.usage, self.settings.retry, credential_source=credentials.source
        )
        self._counts: dict[str, int] = {}
        self.set_jobs(self.settings.jobs)

    def __repr__(self) -> str:
        return f"GitHubClient({self.urls.rest!r}, {self._credentials!r})"

    @property
    def api_url(self) -> str:
        """The REST base URL (GraphQL is at `urls.graphql`)."""
        return self.urls.rest

    def set_jobs(self, jobs: int) -> None:
        """Up to `jobs` reads in flight (1 to GitHub's 100); every request, from any thread, passes one gate."""
        jobs = max(1, min(MAX_CONCURRENT, int(jobs)))
        self.settings = replace(self.settings, jobs=jobs)
        self.transport.gate = ReadGate(jobs)

    def close(self) -> None:
        self._github.close()

    def cap_waits(self, seconds: float) -> None:
        """A read that GitHub asks to wait longer than `seconds` fails at once (`--max-wait`), as a write does."""
        self.transport.policy = replace(self.transport.policy, max_wait=min(self.transport.policy.max_wait, seconds))

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------ token

    def token_info(self) -> TokenInfo:
        if isinstance(self._credentials, AppCredentials):
            return self._app_token_info(self._credentials)
        got = self.transport.rest_get(
            "/user", what="reading the token's user", step="token", unknown_on=frozenset({403})
        )
        if got is None:  # an installation token (e.g. Actions' GITHUB_TOKEN) may not read /user
            return TokenInfo(
                login="(installation token)",
                scopes=None,
                can_push_workflows=True,
                kind="app",
                workflow_permission_known=False,
                can_write=None,
            )
        headers, user = got
        raw_scopes = headers.get("x-oauth-scopes")
        login = str(user.get("login", "")) if isinstance(user, dict) else ""
        if raw_scopes is None:  # fine-grained tokens do not report scopes
            return TokenInfo(
                login=login, scopes=None, can_push_workflows=True, workflow_permission_known=False, can_write=None
            )
        scopes = tuple(s.strip() for s in str(raw_scopes).split(",") if s.strip())
        writes = bool({"repo", "public_repo"} & set(scopes))
        workflows = writes and "workflow" in scopes
        return TokenInfo(login=login, scopes=scopes, can_push_workflows=workflows, can_write=writes)

    def _app_token_info(self, credentials: AppCredentials) -> TokenInfo:
        auth: InstallationAuth = self._auth

        def fetch() -> str:
            return str(auth.token)  # a mint, when one is due, counts itself (Transport hooks InstallationAuth)

        try:
            self.transport.read(fetch, what="creating an installation token", step="token")
        except (GithubException, requests.exceptions.RequestException) as error:
            raise self.transport.error_for(
                error, "creating an installation token", "a valid app id, private key and installation id"
            ) from error
        return TokenInfo(
            login=f"app {credentials.app_id} (installation {credentials.installation_id})",
            scopes=None,
            can_push_workflows=auth.granted.get("workflows") == "write",
            kind="app",
            can_write=all(auth.granted.get(p) == "write" for p in ("contents", "pull_requests")),
        )

    # ------------------------------------------------------------ repositories

    def count_repositories(self, org: str) -> int:
        answer = self.transport.graphql(
            queries.REPOSITORY_COUNT, {"login": org}, what=f"counting the repositories of {org}", step="count"
        )
        count = int(_organization(answer, org)["repositories"]["totalCount"])
        self._counts[org.lower()] = count
        return count

    def repositories(self, org: str, *, campaign_branch: str | None = None) -> Iterator[RepoRecord]:
        """Every repository of `org`, with the campaign's branch and PRs. Streams: nothing is kept once yielded.
        With `jobs` > 1, pages are read concurrently from both ends of the name order (`listing`), at the same
        request count."""
        page = PageSize(self.settings.page_size, self.settings.page_size, self.settings.grow_after)
        if self.settings.jobs > 1:
            total = self._counts.get(org.lower())
            total = self.count_repositories(org) if total is None else total
            if total > self.settings.page_size:
                yield from listing.chained_read(
                    partial(self._read_segment, org, page, campaign_branch),
                    total=total,
                    segment=self.settings.page_size,
                    jobs=self.settings.jobs,
                    fill_gaps=partial(self._missed, org, campaign_branch),
                )
                return
        cursor: str | None = None
        left = self._counts.get(org.lower())  # the last page asks only for what is left: fewer points
        while True:
            answer = self._repository_page(org, cursor, page, left, campaign_branch)
            connection = _organization(answer, org)["repositories"]
            field_errors = _field_errors(answer.errors)
            nodes = connection["nodes"] or ()
            for index, node in enumerate(nodes):
                if isinstance(node, dict):
                    yield self._record(node, field_errors.get(index, {}))
            left = None if left is None else left - len(nodes)
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            cursor = info["endCursor"]

    def _repository_page(
        self, org: str, cursor: str | None, page: PageSize, left: int | None, campaign_branch: str | None = None
    ) -> GraphQLAnswer:
        def first(size: int) -> int:
            return min(size, left) if left is not None and left > 0 else size

        campaign = queries.campaign_variables(campaign_branch)
        answer, _ = self._adaptive(
            org,
            page,
            lambda size: (queries.REPOSITORIES, {"login": org, "first": first(size), "after": cursor, **campaign}),
            what=f"listing the repositories of {org}",
        )
        return answer

    def _read_segment(
        self, org: str, page: PageSize, campaign_branch: str | None, ask: listing.SegmentAsk
    ) -> listing.SegmentRead:
        """`ask.size` repositories after its cursor in one direction, in smaller pieces while GitHub times out."""
        records: list[RepoRecord] = []
        edges: dict[int, listing.Edge] = {}
        read, last, cursor, start, size = 0, None, ask.cursor, ask.start, ask.size
        while read < size:
            variables = {
                "login": org,
                "after": cursor,
                "direction": ask.direction,
                **queries.campaign_variables(campaign_branch),
            }
            answer, _ = self._adaptive(
                org,
                page,
                partial(_chained_query, variables, size - read),
                what=f"listing the repositories of {org}",
            )
            organization = _organization(answer, org)
            for offset, edge in enumerate((organization.get("ahead") or {}).get("edges") or ()):
                node = edge.get("node") if isinstance(edge, dict) else None
                if isinstance(node, dict) and isinstance(edge.get("cursor"), str):
                    edges.setdefault(start + read + offset, listing.Edge(edge["cursor"], str(node["nameWithOwner"])))
            connection = organization["repositories"]
            nodes = connection["nodes"] or []
            field_errors = _field_errors(answer.errors)
            for index, node in enumerate(nodes):
                if isinstance(node, dict):
                    records.append(self._record(node, field_errors.get(index, {})))
                    last = str(node.get("nameWithOwner"))
            read += len(nodes)
            info = connection["pageInfo"]
            if not nodes or not info["hasNextPage"]:
                break
            cursor = info["endCursor"]
        return listing.SegmentRead(tuple(records), read, last, edges)

    def _missed(self, org: str, campaign_branch: str | None, seen: set[str]) -> Iterator[RepoRecord]:
        missed = [item for item in self.repository_names(org) if item.full_name.lower() not in seen]
        yield from self.repositories_named(org, missed, campaign_branch=campaign_branch)

    def _adaptive(
        self, org: str, page: PageSize, build: Callable[[int], tuple[str, Json]], *, what: str
    ) -> tuple[GraphQLAnswer, int]:
        """One GraphQL page of `page.size` repositories, asked again for fewer while GitHub times out;
        returns the answer and how many it asked for."""
        logger = get_logger(step="list")
        while True:
            size = page.size
            query, variables = build(size)
            try:
                answer = self.transport.graphql(query, variables, step="list", what=what, shrinkable=page.can_shrink)
            except PageTooSlow as slow:
                self.transport.count_retry()
                page.shrink()
                logger.warning("github.page_shrunk", org=org, reason=slow.failure.describe, page_size=page.size)
                continue
            page.succeeded()
            logger.debug("github.page", org=org, page_size=size, graphql_points=self.usage.graphql_points)
            return answer, size

    # ------------------------------------------------------------ shards: names first, then by name

    def repository_names(self, org: str) -> Iterator[ListedRepo]:
        cursor: str | None = None
        while True:
            answer = self.transport.graphql(
                queries.REPOSITORY_NAMES,
                {"login": org, "first": NAMES_PER_PAGE, "after": cursor},
                step="list",
                what=f"listing the repository names of {org}",
            )
            connection = _organization(answer, org)["repositories"]
            for node in connection["nodes"] or ():
                if isinstance(node, dict) and isinstance(node.get("nameWithOwner"), str):
                    ref = node.get("defaultBranchRef")
                    branch = ref.get("name") if isinstance(ref, dict) else None
                    yield ListedRepo(node["nameWithOwner"], branch if isinstance(branch, str) else None)
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            cursor = info["endCursor"]

    def repositories_named(
        self, org: str, listed: Sequence[ListedRepo], *, campaign_branch: str | None = None
    ) -> Iterator[RepoRecord]:
        """Read by name, a page at a time (`jobs` pages in flight), in input order. What changed since the listing
        comes back `vanished`."""
        page = PageSize(self.settings.page_size, self.settings.page_size, self.settings.grow_after)
        if self.settings.jobs > 1:
            size = self.settings.page_size
            segments = [listed[start : start + size] for start in range(0, len(listed), size)]
            for records in ordered_map(
                partial(self._named_segment, org, page, campaign_branch), segments, jobs=self.settings.jobs
            ):
                yield from records
            return
        start = 0
        while start < len(listed):
            rest = listed[start:]
            answer, size = self._adaptive(
                org, page, partial(_named_query, org, rest, campaign_branch), what=f"reading repositories of {org}"
            )
            batch = rest[:size]
            yield from self._named_records(answer, batch)
            start += len(batch)

    def _named_segment(
        self, org: str, page: PageSize, campaign_branch: str | None, segment: Sequence[ListedRepo]
    ) -> list[RepoRecord]:
        records: list[RepoRecord] = []
        start = 0
        while start < len(segment):
            rest = segment[start:]
            answer, size = self._adaptive(
                org, page, partial(_named_query, org, rest, campaign_branch), what=f"reading repositories of {org}"
            )
            records.extend(self._named_records(answer, rest[:size]))
            start += len(rest[:size])
        return records

    def _named_records(self, answer: GraphQLAnswer, batch: Sequence[ListedRepo]) -> Iterator[RepoRecord]:
        field_errors = _alias_field_errors(answer.errors)
        for index, item in enumerate(batch):
            node = answer.data.get(f"r{index}")
            if not isinstance(node, dict):
                yield _vanished(item, "deleted or renamed while the plan was read; re-run `migrator plan`")
                continue
            record = self._record(node, field_errors.get(index, {}))
            if item.default_branch and record.default_branch is None:
                why = f"its default branch {item.default_branch} was deleted while the plan was read"
                yield _vanished(item, why + "; re-run `migrator plan`")
                continue
            yield record

    def _record(self, node: Json, field_errors: dict[str, str]) -> RepoRecord:
        parsed = parse_repository(node, max_bytes=self.settings.max_blob_bytes, field_errors=field_errors)
        record = with_fetched(parsed, self._fetch(parsed))
        logger = get_logger(repo=record.full_name, step="list")
        for where, message in field_errors.items():
            logger.warning("github.field_error", field=where, message=message)
        logger.debug(
            "github.repository", files=len(record.files), skipped=len(record.skipped), fetched=len(parsed.fetch)
        )
        return record

    def _fetch(self, parsed: ParsedRepo) -> dict[str, bytes | str]:
        return {ref.path: self._fetch_one(parsed.record.full_name, ref) for ref in parsed.fetch}

    def _fetch_one(self, full_name: str, ref: BlobRef) -> bytes | str:
        data = self._blob_json(full_name, ref.oid)
        if data is None:
            return "vanished while it was read"
        size = int(data.get("size") or 0)
        if size > self.settings.max_blob_bytes:
            return skip_too_large(size, self.settings.max_blob_bytes)
        content = _decode_blob(data, full_name, ref.oid)
        return content if git_blob_sha(content) == ref.oid else SKIP_MISMATCH

    def blob(self, full_name: str, oid: str) -> bytes | None:
        """A blob's bytes over REST, checked against its id; None when it does not exist."""
        data = self._blob_json(full_name, oid)
        if data is None:
            return None
        content = _decode_blob(data, full_name, oid)
        if git_blob_sha(content) != oid:
            raise RemoteError(f"GitHub sent blob {oid[:10]} of {full_name} with other content; run again")
        return content

    def _blob_json(self, full_name: str, oid: str) -> Json | None:
        got = self.transport.rest_get(
            f"/repos/{_quoted(full_name)}/git/blobs/{oid}",
            step="list",
            repo=full_name,
            what=f"reading blob {oid[:10]} of {full_name}",
            unknown_on=frozenset({404}),
        )
        if got is None:
            return None
        data = got[1]
        if not isinstance(data, dict):
            raise RemoteError(f"GitHub sent blob {oid[:10]} of {full_name} in an unknown shape; run again")
        return data

    # ------------------------------------------------------------ secrets

    def secret_names(self, full_name: str) -> SecretNames:
        base = f"/repos/{_quoted(full_name)}/actions"
        return SecretNames(
            repo=self._secret_list(f"{base}/secrets", what=f"listing the secrets of {full_name}", repo=full_name),
            org=self._secret_list(
                f"{base}/organization-secrets", what=f"listing the organization secrets of {full_name}", repo=full_name
            ),
        )

    def org_secret_names(self, org: str) -> frozenset[str] | None:
        """Org secrets every repository can read (visibility "all"): one listing for the whole org."""
        return self._secret_list(
            f"/orgs/{quote(org, safe='')}/actions/secrets", what=f"listing the secrets of {org}", visible_to_all=True
        )

    def app_installation(self, org: str, slug: str) -> AppInstallation:
        """Where the release App `slug` is installed in `org`, as far as this token can see (one or two reads)."""
        planning_app = int(self._credentials.app_id) if isinstance(self._credentials, AppCredentials) else None
        return read_installation(self.transport, org, slug, self.settings.per_page, planning_app=planning_app)

    def actions_policy(self, org: str) -> ActionsPolicy:
        """The org's Actions permissions: one request, two when it allows only selected actions. Unknown
        (`readable=False`) when the token may not read them (they need an org admin)."""
        base = f"/orgs/{quote(org, safe='')}/actions/permissions"
        got = self.transport.rest_get(
            base, what=f"reading the Actions permissions of {org}", step="policy", unknown_on=frozenset({403, 404})
        )
        data = got[1] if got is not None else None
        if not isinstance(data, dict):
            return ActionsPolicy(readable=False)
        allowed = str(data.get("allowed_actions") or "all")
        policy = ActionsPolicy(
            enabled=data.get("enabled_repositories") != "none",
            allowed_actions=allowed,
            sha_pinning_required=bool(data.get("sha_pinning_required")),
        )
        if allowed != "selected":
            return policy
        got = self.transport.rest_get(
            base + "/selected-actions",
            what=f"reading the allowed actions of {org}",
            step="policy",
            unknown_on=frozenset({403, 404, 409}),
        )
        selected = got[1] if got is not None else None
        if not isinstance(selected, dict):
            return replace(policy, readable=False)
        return replace(
            policy,
            github_owned_allowed=bool(selected.get("github_owned_allowed")),
            verified_allowed=bool(selected.get("verified_allowed")),
            patterns_allowed=tuple(str(p) for p in selected.get("patterns_allowed") or ()),
        )

    def _secret_list(
        self, url: str | None, *, what: str, repo: str | None = None, visible_to_all: bool = False
    ) -> frozenset[str] | None:
        params: dict[str, Any] | None = {"per_page": self.settings.per_page}
        names: set[str] = set()
        while url:
            got = self.transport.rest_get(
                url, params, what=what, step="secrets", repo=repo, unknown_on=frozenset({403, 404})
            )
            if got is None:
                return None
            headers, data = got
            secrets = data.get("secrets") if isinstance(data, dict) else None
            names.update(
                str(s["name"])
                for s in secrets or ()
                if isinstance(s, dict) and "name" in s and (not visible_to_all or s.get("visibility") == "all")
            )
            url, params = _next_link(headers), None
        return frozenset(names)


def _quoted(full_name: str) -> str:
    return quote(full_name, safe="/")


def _next_link(headers: dict[str, Any]) -> str | None:
    for link in parse_header_links(str(headers.get("link") or "")):
        if link.get("rel") == "next" and link.get("url"):
            return str(link["url"])
    return None


def _decode_blob(data: Json, full_name: str, oid: str) -> bytes:
    if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
        raise RemoteError(f"GitHub sent blob {oid[:10]} of {full_name} in an unknown shape; run again")
    try:
        return base64.b64decode(data["content"])
    except (binascii.Error, ValueError) as error:
        raise RemoteError(f"GitHub sent blob {oid[:10]} of {full_name} with broken base64; run again") from error


def _organization(answer: GraphQLAnswer, org: str) -> Json:
    organization = answer.data.get("organization")
    if isinstance(organization, dict):
        return organization
    if any(e.type == "NOT_FOUND" for e in answer.errors) or "organization" in answer.data:
        raise InputError(f"GitHub has no organization {org!r} that this token can see; check the org name")
    detail = answer.errors[0].message if answer.errors else "no organization in the answer"
    raise RemoteError(f"GitHub did not list the repositories of {org}: {detail}")


def _named_query(org: str, listed: Sequence[ListedRepo], campaign_branch: str | None, size: int) -> tuple[str, Json]:
    batch = listed[:size]
    names = {f"n{i}": item.full_name.split("/", 1)[1] for i, item in enumerate(batch)}
    campaign = queries.campaign_variables(campaign_branch)
    return queries.repositories_named(len(batch)), {"owner": org, **campaign, **names}


def _chained_query(variables: Json, wanted: int, size: int) -> tuple[str, Json]:
    return listing.CHAINED, {**variables, "first": min(size, wanted)}


def _vanished(item: ListedRepo, why: str) -> RepoRecord:
    return RepoRecord(full_name=item.full_name, default_branch=None, head_oid=None, vanished=why)


def _alias_field_errors(errors: tuple[GraphQLError, ...]) -> dict[int, dict[str, str]]:
    """Errors on fields of aliased repositories (rINDEX/field/...), by alias index, keyed by the path below."""
    found: dict[int, dict[str, str]] = {}
    for error in errors:
        path = error.path
        if len(path) > 1 and isinstance(path[0], str) and path[0][:1] == "r" and path[0][1:].isdigit():
            found.setdefault(int(path[0][1:]), {})["/".join(str(p) for p in path[1:])] = error.message
    return found


def _field_errors(errors: tuple[GraphQLError, ...]) -> dict[int, dict[str, str]]:
    """Errors on fields of single repositories (organization/repositories/nodes/INDEX/field/...),
    by node index, keyed by the path below the node."""
    found: dict[int, dict[str, str]] = {}
    for error in errors:
        path = error.path
        if len(path) > 4 and path[:3] == ("organization", "repositories", "nodes") and isinstance(path[3], int):
            found.setdefault(path[3], {})["/".join(str(p) for p in path[4:])] = error.message
    return found


if TYPE_CHECKING:

    def _implements_the_ports(client: GitHubClient) -> tuple[Writer, StatusReader]:
        return client, client  # mypy --strict checks GitHubClient against both protocols here


def connect(
    *,
    api_url: str | None = None,
    token: str | None = None,
    app_id: str | int | None = None,
    app_key_path: str | Path | None = None,
    installation_id: int | str | None = None,
    settings: ClientSettings | None = None,
    sources: CredentialSources | None = None,
) -> GitHubClient:
    """A client from CLI flags, else the environment (GITHUB_API_URL, GITHUB_TOKEN, GH_TOKEN), else `gh`."""
    urls = resolve_api_urls(api_url, env=sources.env if sources else None)
    credentials = resolve_credentials(
        token=token,
        app_id=app_id,
        app_key_path=app_key_path,
        installation_id=installation_id,
        gh_hostname=None if urls.is_github_com else urls.host,
        sources=sources,
    )
    return GitHubClient(credentials=credentials, urls=urls, settings=settings)
