"""An in-memory GitHub implementing the executor's Writer port, with injectable faults.

Tests assert its state (branches, commits, pull requests), not the calls made to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from migrator.apply.ports import (
    AlreadyExists,
    Ambiguous,
    CommitInfo,
    Forbidden,
    PullInfo,
    PullRequestSpec,
    RepoState,
    StaleHead,
    Throttled,
)
from migrator.github.types import CampaignCommit, CampaignPull, CampaignRead
from migrator.model import git_blob_sha


class Crash(BaseException):
    """Stands for `kill -9`: not an Exception, so nothing in migrator catches it."""


@dataclass
class FakeRepo:
    default_branch: str
    branches: dict[str, str]
    trees: dict[str, dict[str, bytes]]  # commit oid -> files
    commits: dict[str, CommitInfo]
    pulls: list[PullInfo] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class FakeGitHub:
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    # (method, mode): mode is "before" (fail, nothing done), "after" (done, then the answer is lost),
    # "throttle" (refused with a wait), "forbidden", "crash-after" (done, then the process dies)
    faults: list[tuple[str, str]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    crash_after_writes: int | None = None  # `kill -9` right after the Nth successful write
    loose_trees: dict[str, dict[str, bytes]] = field(default_factory=dict)  # trees made by create_tree
    _counter: int = 0

    def add_repo(self, name: str, files: Mapping[str, bytes], *, branch: str = "main") -> str:
        oid = self._oid("init", name)
        self.repos[name] = FakeRepo(branch, {branch: oid}, {oid: dict(files)}, {oid: CommitInfo(oid, (), "init")})
        return oid

    # --- test helpers ---
    def push(self, name: str, files: Mapping[str, bytes | None], *, branch: str | None = None) -> str:
        repo = self.repos[name]
        target = branch or repo.default_branch
        parent = repo.branches[target]
        tree = {**repo.trees[parent]}
        for path, content in files.items():
            if content is None:
                tree.pop(path, None)
            else:
                tree[path] = content
        oid = self._oid("push", parent)
        repo.trees[oid], repo.commits[oid] = tree, CommitInfo(oid, (parent,), "someone else")
        repo.branches[target] = oid
        return oid

    def merge(self, name: str, number: int) -> None:
        repo = self.repos[name]
        pull = next(p for p in repo.pulls if p.number == number)
        head = repo.branches[pull.head_ref]
        repo.branches[repo.default_branch] = head  # fast-forward is enough for these tests
        repo.pulls = [
            replace(p, state="merged", merge_commit_oid=head) if p.number == number else p for p in repo.pulls
        ]

    def files(self, name: str, branch: str | None = None) -> dict[str, bytes]:
        repo = self.repos[name]
        return repo.trees[repo.branches[branch or repo.default_branch]]

    # --- Writer: reads ---
    def repo_state(self, repo: str, *, branch: str, paths: Sequence[str]) -> RepoState:
        r = self.repos[repo]
        head = r.branches[r.default_branch]
        blobs = {p: (git_blob_sha(r.trees[head][p]) if p in r.trees[head] else None) for p in paths}
        ours = r.commits[r.branches[branch]] if branch in r.branches else None
        pulls = [self._refresh(r, p) for p in r.pulls if p.head_ref == branch]
        return RepoState(r.default_branch, head, blobs, ours, tuple(pulls))

    def commit(self, repo: str, oid: str) -> CommitInfo:
        return replace(self.repos[repo].commits[oid], tree="tree:" + oid)

    def comment_bodies(self, repo: str, number: int) -> list[str]:
        return [body for n, body in self.repos[repo].comments if n == number]

    # --- Writer: writes ---
    def create_branch(self, repo: str, *, branch: str, oid: str) -> None:
        def do() -> None:
            r = self.repos[repo]
            if branch in r.branches:
                raise AlreadyExists("Reference already exists")
            r.branches[branch] = oid

        self._write("create_branch", do)

    def commit_files(
        self,
        repo: str,
        *,
        branch: str,
        expected_head: str,
        headline: str,
        body: str,
        additions: Mapping[str, bytes],
        deletions: Sequence[str],
    ) -> str:
        result: list[str] = []

        def do() -> None:
            r = self.repos[repo]
            if r.branches.get(branch) != expected_head:
                raise StaleHead("Expected branch to point to a different commit")
            tree = {p: c for p, c in r.trees[expected_head].items() if p not in deletions}
            tree.update(additions)
            oid = self._oid("commit", expected_head)
            r.trees[oid], r.commits[oid] = tree, CommitInfo(oid, (expected_head,), f"{headline}\n\n{body}")
            r.branches[branch] = oid
            result.append(oid)

        self._write("commit_files", do)
        return result[0]

    def create_tree(
        self, repo: str, *, base_tree: str, additions: Mapping[str, bytes], deletions: Sequence[str]
    ) -> str:
        result: list[str] = []

        def do() -> None:
            r = self.repos[repo]
            base = r.trees[base_tree.removeprefix("tree:")]
            tree = {p: c for p, c in base.items() if p not in deletions}
            tree.update(additions)
            oid = "tree:" + self._oid("tree", base_tree)
            self.loose_trees[oid] = tree
            result.append(oid)

        self._write("create_tree", do)
        return result[0]

    def create_commit(self, repo: str, *, tree: str, parents: Sequence[str], message: str) -> str:
        result: list[str] = []

        def do() -> None:
            r = self.repos[repo]
            oid = self._oid("commit", tree)
            r.trees[oid], r.commits[oid] = dict(self.loose_trees[tree]), CommitInfo(oid, tuple(parents), message)
            result.append(oid)

        self._write("create_commit", do)
        return result[0]

    def force_branch(self, repo: str, *, branch: str, oid: str) -> None:
        def do() -> None:
            r = self.repos[repo]
            if branch not in r.branches:
                raise Forbidden("Reference does not exist")
            r.branches[branch] = oid

        self._write("force_branch", do)

    def campaign_read(self, name: str, branch: str) -> CampaignRead:
        """What the plan's page query reads of the campaign here (tests build re-plans from it)."""
        r = self.repos[name]
        head = r.commits.get(r.branches.get(branch, ""))
        pulls = tuple(
            CampaignPull(p.number, p.url, p.state, r.branches.get(branch, p.head_oid), p.base_ref)
            for p in reversed(r.pulls)
            if p.head_ref == branch
        )
        return CampaignRead(CampaignCommit(head.oid, head.parents, head.message) if head else None, pulls)

    def create_pull(self, repo: str, spec: PullRequestSpec) -> PullInfo:
        result: list[PullInfo] = []

        def do() -> None:
            r = self.repos[repo]
            if any(p.head_ref == spec.head and p.state == "open" for p in r.pulls):
                raise AlreadyExists(f"A pull request already exists for acme:{spec.head}.")
            number = len(r.pulls) + 1
            pull = PullInfo(
                number,
                f"https://github.test/{repo}/pull/{number}",
                "open",
                spec.head,
                r.branches[spec.head],
                spec.base,
                spec.body,
            )
            r.pulls.append(pull)
            result.append(pull)

        self._write("create_pull", do)
        return result[0]

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        def do() -> None:
            self._update_pull(repo, number, labels=tuple(dict.fromkeys((*self._pull(repo, number).labels, *labels))))

        self._write("add_labels", do)

    def request_reviewers(self, repo: str, number: int, *, users: Sequence[str], teams: Sequence[str]) -> None:
        def do() -> None:
            pull = self._pull(repo, number)
            self._update_pull(
                repo,
                number,
                reviewers=tuple(dict.fromkeys((*pull.reviewers, *users))),
                team_reviewers=tuple(dict.fromkeys((*pull.team_reviewers, *teams))),
            )

        self._write("request_reviewers", do)

    def _pull(self, repo: str, number: int) -> PullInfo:
        return next(p for p in self.repos[repo].pulls if p.number == number)

    def _update_pull(self, repo: str, number: int, **changes: object) -> None:
        r = self.repos[repo]
        r.pulls = [replace(p, **changes) if p.number == number else p for p in r.pulls]  # type: ignore[arg-type]

    def comment(self, repo: str, number: int, body: str) -> None:
        self._write("comment", lambda: self.repos[repo].comments.append((number, body)))

    def close_pull(self, repo: str, number: int) -> None:
        def do() -> None:
            r = self.repos[repo]
            r.pulls = [replace(p, state="closed") if p.number == number else p for p in r.pulls]

        self._write("close_pull", do)

    def delete_branch(self, repo: str, branch: str) -> None:
        self._write("delete_branch", lambda: self.repos[repo].branches.pop(branch))

    # --- machinery ---
    def _write(self, method: str, do: object) -> None:
        fault = next((f for f in self.faults if f[0] == method), None)
        if fault is not None:
            self.faults.remove(fault)
            mode = fault[1]
            if mode == "before":
                raise Ambiguous("502 Bad Gateway")
            if mode == "throttle":
                raise Throttled("You have exceeded a secondary rate limit", wait=60)
            if mode == "forbidden":
                raise Forbidden("Resource not accessible by personal access token")
        do()  # type: ignore[operator]
        self.writes.append(method)
        if self.crash_after_writes == len(self.writes):
            raise Crash()
        if fault is not None and fault[1] == "after":
            raise Ambiguous("timed out reading the response")
        if fault is not None and fault[1] == "crash-after":
            raise Crash()

    def _refresh(self, repo: FakeRepo, pull: PullInfo) -> PullInfo:
        return replace(pull, head_oid=repo.branches.get(pull.head_ref, pull.head_oid))

    def _oid(self, *parts: str) -> str:
        self._counter += 1
        return hashlib.sha1(f"{self._counter}:{parts}".encode(), usedforsecurity=False).hexdigest()
