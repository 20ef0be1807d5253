"""A job while it runs: its contexts, its workspace (what git is configured with), and the writes it makes.

Writes go straight to the store (a tag, a release commit, a release, an image push); each write a run makes is
also an `Event` the engine may turn into more runs (never for GITHUB_TOKEN's, see `triggers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from migrator.sandbox.actions import credentials
from migrator.sandbox.actions.credentials import Credential
from migrator.sandbox.actions.documents import Job, Workflow
from migrator.sandbox.actions.expressions import Scope, interpolate
from migrator.sandbox.actions.model import ImagePush, Release
from migrator.sandbox.actions.triggers import Event
from migrator.sandbox.store import HEADS, Repo, Store


@dataclass(frozen=True)
class Workspace:
    """What `actions/checkout` and `git remote set-url` left in `.git/config`."""

    checked_out: bool = False
    origin: str = ""
    extraheader: Credential | None = None  # http.https://github.com/.extraheader
    ssh: Credential | None = None  # core.sshCommand with the checkout's ssh-key

    def push_credential(self, url: str, known: dict[str, Credential]) -> Credential | None:
        """The credential git really authenticates a push to `url` with."""
        if url.startswith(("git@", "ssh://")):
            return self.ssh
        if self.extraheader is not None:  # sent with every request to github.com, URL credentials or not
            return self.extraheader
        return credentials.from_url(url, known)


@dataclass(frozen=True)
class StepOutcome:
    conclusion: str  # success, failure
    log: tuple[str, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass
class JobContext:
    store: Store
    repo: Repo
    workflow: Workflow
    job: Job
    event: Event
    run_id: int
    github_token: Credential
    secrets: dict[str, str]
    known: dict[str, Credential]  # expanded secret value -> its credential
    needs: dict[str, Any]
    workspace: Workspace = field(default_factory=Workspace)
    steps: dict[str, Any] = field(default_factory=dict)
    failed: bool = False
    events: list[Event] = field(default_factory=list)

    @property
    def https_url(self) -> str:
        return f"https://{credentials.HOST}/{self.repo.full_name}"

    @property
    def branch(self) -> str | None:
        return self.event.ref.removeprefix(HEADS) if self.event.ref.startswith(HEADS) else None

    def github_context(self) -> dict[str, Any]:
        event = self.event
        payload: dict[str, Any] = {}
        if event.release_id is not None and event.release_id in self.repo.releases:
            release = self.repo.releases[event.release_id]
            payload = {"release": {"tag_name": release.tag_name, "name": release.name, "id": release.id}}
        if event.pull_number is not None:
            payload = {"pull_request": {"number": event.pull_number, "head": {"ref": event.head_ref, "sha": event.sha},
                                        "base": {"ref": event.base_ref}}, "number": event.pull_number}
        return {
            "event_name": event.name,
            "head_ref": event.head_ref or "",
            "base_ref": event.base_ref or "",
            "ref": event.ref,
            "ref_name": event.ref_name,
            "ref_type": "tag" if event.is_tag else "branch",
            "sha": event.sha,
            "repository": self.repo.full_name,
            "repository_owner": self.repo.org,
            "actor": event.actor,
            "token": self.github_token.value,
            "run_id": str(self.run_id),
            "workflow": self.workflow.name,
            "server_url": f"https://{credentials.HOST}",
            "event": payload,
        }

    def scope(self, env: Mapping[str, str]) -> Scope:
        contexts = {
            "github": self.github_context(),
            "secrets": self.secrets,
            "env": dict(env),
            "needs": self.needs,
            "steps": self.steps,
            "inputs": {},
            "vars": {},
            "job": {"status": "failure" if self.failed else "success"},
            "runner": {"os": "Linux"},
        }
        return Scope(contexts, failed=self.failed)

    def env_for(self, extra: Mapping[str, str]) -> dict[str, str]:
        """Workflow, job and then step env, each value expanded with what came before it."""
        env: dict[str, str] = {}
        for layer in (self.workflow.env, self.job.env, extra):
            for key, value in layer.items():
                env[key] = interpolate(value, self.scope(env))
        return env

    def deploy_key(self) -> Credential:
        return credentials.deploy_key(self.repo)

    def credential_for(self, value: str) -> Credential | None:
        return self.known.get(value) if value else None

    def file(self, path: str) -> bytes | None:
        entry = self.repo.files_at(self.event.sha).get(path)
        return self.repo.git.blobs.get(entry.sha) if entry else None

    def paths(self) -> list[str]:
        """Every file path of the run's commit."""
        return sorted(self.repo.files_at(self.event.sha))

    # ------------------------------------------------------------ writes

    def push_ref(self, credential: Credential | None, ref: str, sha: str, *, url: str) -> str | None:
        """A push of `sha` to `ref`; GitHub's refusal text, or None once the ref is there."""
        problem = credentials.refusal(self.repo, credential, ref, url=url, store=self.store, sha=sha)
        if problem is not None:
            return problem
        assert credential is not None
        before = self.repo.refs.get(ref)
        if before == sha:
            return None
        self.repo.refs[ref] = sha
        self.repo.pushed_at = self.store.clock()
        changed = tuple(_changed(self.repo, before, sha)) if before and not ref.startswith("refs/tags/") else ()
        self.events.append(self._event("push", ref, sha, credential, changed=changed, before=before))
        return None

    def create_release(self, credential: Credential, tag: str, sha: str, notes: str) -> Release:
        now = self.store.clock()
        release = Release(
            id=self.store.next_id("release"),
            tag_name=tag,
            target_commitish=self.branch or sha,
            name=tag,
            body=notes,
            author=credential.login,
            created_at=now,
            published_at=now,
            run_id=self.run_id,
        )
        self.repo.releases[release.id] = release
        # GitHub docs, "Events that trigger workflows: release": publishing a release (not a prerelease)
        # is three activities, created, published and released.
        for action in ("created", "published", "released"):
            self.events.append(self._event("release", f"refs/tags/{tag}", sha, credential, action=action,
                                           release_id=release.id))
        return release

    def push_image(self, image: str, tag: str) -> None:
        self.store.registry.append(
            ImagePush(
                image=image.lower(),
                tag=tag,
                repository=self.repo.full_name,
                run_id=self.run_id,
                workflow=self.workflow.path,
                job=self.job.name,
                event=self.event.name,
                ref=self.event.ref,
                sha=self.event.sha,
                pushed_at=self.store.clock(),
            )
        )

    def _event(self, name: str, ref: str, sha: str, credential: Credential, **more: Any) -> Event:
        return replace(
            Event(name, ref, sha, credential.login, credential.github_token, depth=self.event.depth + 1), **more
        )


def _changed(repo: Repo, before: str, after: str) -> list[str]:
    if before not in repo.git.commits or after not in repo.git.commits:
        return []
    old, new = repo.files_at(before), repo.files_at(after)
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
