"""`VerifyMethods.verify_facts`: what became of many merged fixes, a batch of repositories per GraphQL query.

One query reads, per repository, the pull request (merge commit and time), the default branch's protection and
newest commits with their workflow runs (check suites), the newest releases and tags, and the default branch's
workflow files (their `on:` says what a release should start). Image pushes come from the runs' jobs (inferred),
GHCR's package versions where they are evidence (`package_versions`), or, against the sandbox only, from its
registry model (`sandbox_image_pushes`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from migrator.errors import AuthError
from migrator.github import queries
from migrator.github.paging import ordered_map
from migrator.github.transport import GraphQLAnswer, Transport
from migrator.verify.model import (
    CheckFact,
    ImagePush,
    PackageVersion,
    RegistryFact,
    ReleaseFact,
    RepoFacts,
    RunFact,
    WorkflowFile,
)

Json = dict[str, Any]
VERIFY_BATCH = 25  # repositories per query: each reads ~30 commits' suites, well under GitHub's node limit
IMAGE_JOB_WORDS = ("docker", "image", "container", "publish")
REGISTRY = "ghcr.io"
WORKFLOW_FILES = """
    workflowFiles: object(expression: "HEAD:.github/workflows") {
      ... on Tree { entries { name type object { ... on Blob { isTruncated text } } } } }"""


def verify_query(count: int) -> str:
    """`count` merged fixes in one query (`queries.VERIFY_FIELDS` and the workflow files): `r0`, `r1`, ... from
    variables `$o0`, `$n0`, `$k0` (the PR number), ..."""
    declared = ", ".join(f"$o{i}: String!, $n{i}: String!, $k{i}: Int!" for i in range(count))
    fields = queries.VERIFY_FIELDS + WORKFLOW_FILES
    blocks = "".join(
        f"\n  r{i}: repository(owner: $o{i}, name: $n{i}) {{{fields.replace('{i}', str(i))}\n  }}" for i in range(count)
    )
    declared = f"({declared})" if declared else ""
    return f"\nquery MigratorVerify{declared} {{{blocks}\n  rateLimit {{ cost remaining resetAt }}\n}}\n"


@dataclass(frozen=True)
class VerifyTarget:
    repo: str  # org/name
    pr_number: int
    release_workflows: tuple[str, ...] = ()
    keepers: tuple[str, ...] = ()  # a docker-only fix: the workflows the deleted duplicates duplicated
    docker_only: bool = False


class VerifyMethods:
    """Mixed into `GitHubClient`, which provides `transport`."""

    transport: Transport

    def verify_facts(
        self, targets: Sequence[VerifyTarget], *, progress: Callable[[int, int, str], None] | None = None
    ) -> list[RepoFacts]:
        """In input order; a repository GitHub does not show comes back with PR state "unknown"."""
        found: list[RepoFacts] = []
        batches = [targets[start : start + VERIFY_BATCH] for start in range(0, len(targets), VERIFY_BATCH)]
        answers = ordered_map(self._verify_batch, batches, jobs=self.transport.gate.concurrency)
        for batch, answer in zip(batches, answers, strict=True):
            if progress:
                progress(len(found), len(targets), batch[0].repo)
            found.extend(parse_facts(t, answer.data.get(f"r{i}")) for i, t in enumerate(batch))
        if progress and targets:
            progress(len(targets), len(targets), targets[-1].repo)
        return found

    def _verify_batch(self, batch: Sequence[VerifyTarget]) -> GraphQLAnswer:
        return self.transport.graphql(
            verify_query(len(batch)),
            _variables(batch),
            step="verify",
            what=f"reading the releases of {len(batch)} repositories",
        )

    def package_versions(self, repo: str) -> RegistryFact:
        """GHCR's versions of the repository's image (`ghcr.io/org/name`), newest first, one request. A 403 (the
        token cannot read packages) or 404 (no such package, or not visible) means the registry cannot tell."""
        org, _, name = repo.lower().partition("/")
        package = f"{REGISTRY}/{org}/{name}"
        url = f"/orgs/{quote(org, safe='')}/packages/container/{quote(name, safe='')}/versions"
        try:
            got = self.transport.rest_get(
                url,
                {"per_page": 100},
                what=f"reading the package versions of {package}",
                step="verify",
                repo=repo,
                unknown_on=frozenset({403, 404}),
            )
        except AuthError as error:
            return RegistryFact(package, unreadable=str(error))
        if got is None:
            return RegistryFact(package, unreadable="the token cannot read this package, or there is none")
        versions = tuple(_package_version(v) for v in got[1] or () if isinstance(v, dict))
        return RegistryFact(package, versions=versions)

    def sandbox_image_pushes(self) -> dict[str, tuple[ImagePush, ...]]:
        """Sandbox only: its registry model (`GET /_sandbox/registry`), one request for every repository."""
        got = self.transport.rest_get("/_sandbox/registry", what="reading the sandbox's registry", step="verify")
        pushes: dict[str, list[ImagePush]] = {}
        body = got[1] if got else {}
        for item in body.get("pushes") or () if isinstance(body, dict) else ():
            push = ImagePush(f"{item['image']}:{item['tag']}", int(item["run_id"]), str(item["workflow"]))
            pushes.setdefault(str(item["repository"]).lower(), []).append(push)
        return {repo: tuple(found) for repo, found in pushes.items()}


def _variables(batch: Sequence[VerifyTarget]) -> Json:
    variables: Json = {}
    for i, target in enumerate(batch):
        owner, _, name = target.repo.partition("/")
        variables.update({f"o{i}": owner, f"n{i}": name, f"k{i}": int(target.pr_number)})
    return variables


def parse_facts(target: VerifyTarget, node: Any) -> RepoFacts:
    """One `rN` alias of the answer as `RepoFacts` (image pushes inferred from the runs' jobs)."""
    pull = _dict(_dict(node).get("pull"))
    if not pull:
        return RepoFacts(
            target.repo,
            target.pr_number,
            "",
            "unknown",
            release_workflows=target.release_workflows,
            keepers=target.keepers,
            docker_only=target.docker_only,
        )
    state = str(pull.get("state") or "unknown").lower()
    merge = _dict(pull.get("mergeCommit"))
    branch = _dict(_dict(node).get("defaultBranchRef"))
    history = _nodes(_dict(_dict(branch.get("target")).get("history")))
    commits = _commits_since(merge, history)
    releases = _releases(_nodes(_dict(_dict(node).get("releases"))), str(pull.get("mergedAt") or ""))
    suites = [
        merge,
        *(c for c in history if c.get("oid") in commits),
        *(_dict(r.get("tagCommit")) for r in _nodes(_dict(_dict(node).get("releases")))),
    ]
    runs = _runs(suites)
    release_commits = {r.commit for r in releases if r.commit}
    tags = tuple(
        str(t.get("name"))
        for t in _nodes(_dict(_dict(node).get("tags")))
        if _dict(t.get("target")).get("oid") in set(commits) | release_commits
    )
    return RepoFacts(
        repo=target.repo,
        pr_number=target.pr_number,
        pr_url=str(pull.get("url") or ""),
        pr_state=state,
        merged_at=pull.get("mergedAt") if isinstance(pull.get("mergedAt"), str) else None,
        merge_commit=merge.get("oid") if isinstance(merge.get("oid"), str) else None,
        default_branch=str(branch.get("name") or "main"),
        admin_enforced=bool(_dict(branch.get("branchProtectionRule")).get("isAdminEnforced")),
        commits=commits,
        runs=runs,
        releases=releases,
        tags=tags,
        images=infer_image_pushes(target.repo, runs, releases),
        release_workflows=target.release_workflows,
        keepers=target.keepers,
        docker_only=target.docker_only,
        workflows=_workflow_files(_dict(node).get("workflowFiles")),
    )


def _workflow_files(tree: Any) -> tuple[WorkflowFile, ...] | None:
    """The default branch's `.github/workflows/*.yml|yaml` as text (none when there is no such folder)."""
    if not isinstance(tree, dict):
        return ()
    found = []
    for entry in tree.get("entries") or ():
        blob = _dict(_dict(entry).get("object"))
        name = str(_dict(entry).get("name") or "")
        if name.endswith((".yml", ".yaml")) and isinstance(blob.get("text"), str) and not blob.get("isTruncated"):
            found.append(WorkflowFile(f".github/workflows/{name}", blob["text"]))
    return tuple(sorted(found, key=lambda w: w.path))


def _package_version(node: Json) -> PackageVersion:
    container = _dict(_dict(node.get("metadata")).get("container"))
    return PackageVersion(
        digest=str(node.get("name") or ""),
        tags=tuple(str(t) for t in container.get("tags") or ()),
        created_at=str(node.get("created_at") or ""),
    )


def _commits_since(merge: Json, history: list[Json]) -> tuple[str, ...]:
    """The merge commit and the default branch's commits after it, oldest first."""
    oid = merge.get("oid")
    if not isinstance(oid, str):
        return ()
    later: list[str] = []
    for commit in history:  # newest first
        if commit.get("oid") == oid:
            break
        later.append(str(commit.get("oid")))
    else:
        since = str(merge.get("committedDate") or "")
        later = [str(c.get("oid")) for c in history if str(c.get("committedDate") or "") >= since]
    return (oid, *reversed([c for c in later if c != oid]))


def _releases(nodes: Iterable[Json], merged_at: str) -> tuple[ReleaseFact, ...]:
    found = [
        ReleaseFact(
            tag=str(r.get("tagName") or ""),
            url=str(r.get("url") or ""),
            created_at=str(r.get("createdAt") or ""),
            author=_dict(r.get("author")).get("login") or None,
            commit=_dict(r.get("tagCommit")).get("oid") or None,
        )
        for r in nodes
    ]
    return tuple(sorted((r for r in found if merged_at and r.created_at >= merged_at), key=lambda r: r.created_at))


def _runs(commits: Iterable[Json]) -> tuple[RunFact, ...]:
    runs: dict[int, RunFact] = {}
    for commit in commits:
        for suite in _nodes(_dict(commit.get("checkSuites"))):
            run = _dict(suite.get("workflowRun"))
            if run.get("databaseId") is None:
                continue
            runs[int(run["databaseId"])] = RunFact(
                id=int(run["databaseId"]),
                url=str(run.get("url") or ""),
                workflow=str(_dict(run.get("file")).get("path") or ""),
                event=str(run.get("event") or ""),
                commit=str(commit.get("oid") or ""),
                created_at=str(run.get("createdAt") or ""),
                status=str(suite.get("status") or "").lower(),
                conclusion=_lower(suite.get("conclusion")),
                jobs=tuple(_check(c) for c in _nodes(_dict(suite.get("checkRuns")))),
            )
    return tuple(sorted(runs.values(), key=lambda r: (r.created_at, r.id)))


def _check(node: Json) -> CheckFact:
    return CheckFact(
        name=str(node.get("name") or ""),
        status=str(node.get("status") or "").lower(),
        conclusion=_lower(node.get("conclusion")),
        title=str(node.get("title") or ""),
        summary=str(node.get("summary") or ""),
    )


def infer_image_pushes(repo: str, runs: Sequence[RunFact], releases: Sequence[ReleaseFact]) -> tuple[ImagePush, ...]:
    """Against GitHub, without registry access: every successful job named like an image build, in a run on a
    release's commit, is taken to have pushed that release's version (marked `inferred`)."""
    pushes: list[ImagePush] = []
    for release in releases:
        version = release.tag.removeprefix("v")
        for run in runs:
            named = "docker" in run.workflow.lower()
            built = any(
                j.conclusion == "success" and (named or any(w in j.name.lower() for w in IMAGE_JOB_WORDS))
                for j in run.jobs
            )
            if run.commit == release.commit and built:
                pushes.append(ImagePush(f"ghcr.io/{repo.lower()}:{version}", run.id, run.workflow, inferred=True))
    return tuple(pushes)


def _nodes(connection: Json) -> list[Json]:
    return [n for n in connection.get("nodes") or () if isinstance(n, dict)]


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


class IssueMethods:
    """The tracking issue of `report --tracking-issue`: one body kept up to date, written only when it changed."""

    transport: Transport

    def keep_issue_body(self, repo: str, number: int, body: str) -> bool:
        """True when the body was written; False when it already said exactly this (no write)."""
        url = f"/repos/{quote(repo, safe='/')}/issues/{int(number)}"
        got = self.transport.rest_get(url, what=f"reading issue #{number} of {repo}", step="report", repo=repo)
        current = got[1] if got else {}
        if isinstance(current, dict) and current.get("body") == body:
            return False
        self.transport.send("PATCH", url, {"body": body})
        return True
