"""semantic-release and python-semantic-release, as far as a release pipeline's outcome depends on them.

semantic-release (`lib/get-git-auth-url.js`, `index.js`, `lib/definitions/errors.js`):
1. It releases only from its release branches (default `main`, `master`, `next`, `next-major`, `N.x`, `beta`,
   `alpha`; or `branches` of `.releaserc(.json)` / package.json `release`), never for pull requests.
2. It tries the repository URL as configured first (an SSH key, or the credential checkout persisted). If that
   cannot push, it builds https URLs from `GIT_CREDENTIALS`, `GH_TOKEN` and `GITHUB_TOKEN` (in that order,
   `x-access-token:` before GITHUB_TOKEN on GitHub Actions): one such variable is used unverified, several are
   tried in order and the first that can push wins. The probe is `git push --dry-run --no-verify URL HEAD:branch`.
3. If the chosen URL cannot push it logs `The command "…" failed with the error message …` and fails with
   `EGITNOPERMISSION Cannot push to the Git repository.` (unless the branch is behind the remote: then it
   publishes nothing and succeeds).
4. The next version follows the commits since the last `v*` tag (conventional commits, the angular preset:
   `feat` minor, `fix`/`perf` patch, `BREAKING CHANGE` or `!` major; nothing else releases). The first release is
   1.0.0. No releasable commit: "There are no relevant changes, so no new version is released.", green.
5. It pushes the tag (`git push --tags URL`; with @semantic-release/git also the release commit, `[skip ci]`, to
   the branch) and @semantic-release/github creates the release with `GH_TOKEN` or else `GITHUB_TOKEN`.
   `--dry-run` stops before any of that.

python-semantic-release (docs, "Configuration: remote.token", "Commands: version"): it pushes with the token in
`GH_TOKEN` (the action's `github_token` input), committing the version bump and the tag to the branch; the first
version is 0.0.0 bumped (`feat` 0.1.0, `fix` 0.0.1).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from migrator.sandbox.actions import credentials
from migrator.sandbox.actions.credentials import Credential
from migrator.sandbox.actions.runtime import JobContext, StepOutcome
from migrator.sandbox.actions.triggers import matches
from migrator.sandbox.store import HEADS

DEFAULT_BRANCHES = ("+([0-9])?(.{+([0-9]),x}).x", "master", "main", "next", "next-major", "beta", "alpha")
TOKEN_VARIABLES = ("GIT_CREDENTIALS", "GH_TOKEN", "GITHUB_TOKEN")
TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
HEADER = re.compile(r"^(?P<type>\w+)(?:\([^)]*\))?(?P<bang>!)?:")
SKIP_CI = "[skip ci]"


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int

    def bump(self, level: int) -> Version:
        if level == 3:
            return Version(self.major + 1, 0, 0)
        if level == 2:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def release_level(message: str) -> int:
    """0 none, 1 patch, 2 minor, 3 major, by the angular convention."""
    match = HEADER.match(message.strip())
    if match is None:
        return 0
    if match["bang"] or re.search(r"^BREAKING[ -]CHANGE:", message, re.M):
        return 3
    return {"feat": 2, "fix": 1, "perf": 1}.get(match["type"], 0)


def last_release(ctx: JobContext) -> tuple[Version | None, str | None]:
    """The highest `vX.Y.Z` tag on the run's commit's history, and its commit."""
    history = set(ctx.repo.git.ancestors(ctx.event.sha))
    best: tuple[Version, str] | None = None
    for ref, sha in ctx.repo.refs.items():
        match = TAG.match(ref.removeprefix("refs/tags/")) if ref.startswith("refs/tags/") else None
        if match and sha in history:
            version = Version(int(match[1]), int(match[2]), int(match[3]))
            if best is None or (version.major, version.minor, version.patch) > _key(best[0]):
                best = (version, sha)
    return (best[0], best[1]) if best else (None, None)


def _key(version: Version) -> tuple[int, int, int]:
    return version.major, version.minor, version.patch


def next_version(ctx: JobContext, *, first: Version) -> Version | None:
    last, last_sha = last_release(ctx)
    seen = set(ctx.repo.git.ancestors(last_sha)) if last_sha else set()
    level = max((release_level(ctx.repo.commit(s).message) for s in ctx.repo.git.ancestors(ctx.event.sha)
                 if s not in seen), default=0)
    if level == 0:
        return None
    if last is None:
        return first if first != Version(0, 0, 0) else first.bump(level)
    return last.bump(level)


def _config(ctx: JobContext) -> dict[str, object]:
    for path in (".releaserc", ".releaserc.json"):
        data = ctx.file(path)
        if data is not None:
            try:
                found = json.loads(data)
            except ValueError:
                return {}
            return found if isinstance(found, dict) else {}
    package = _package(ctx)
    release = package.get("release")
    return release if isinstance(release, dict) else {}


def _package(ctx: JobContext) -> dict[str, object]:
    data = ctx.file("package.json")
    try:
        found = json.loads(data) if data else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _release_branches(config: dict[str, object]) -> tuple[str, ...]:
    raw = config.get("branches")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, (str, dict)) else list(DEFAULT_BRANCHES)
    return tuple(str(b.get("name")) if isinstance(b, dict) else str(b) for b in items)


def _uses_git_plugin(config: dict[str, object]) -> bool:
    plugins = config.get("plugins")
    names = [p[0] if isinstance(p, list) and p else p for p in plugins] if isinstance(plugins, list) else []
    return "@semantic-release/git" in names


def _repository_url(ctx: JobContext) -> str:
    repository = _package(ctx).get("repository")
    url = repository.get("url") if isinstance(repository, dict) else repository
    if isinstance(url, str) and url:
        return re.sub(r"^git\+", "", url).removesuffix(".git")
    return ctx.workspace.origin or ctx.https_url


def _auth_url(ctx: JobContext, env: dict[str, str], url: str) -> str:
    """`get-git-auth-url`: the configured URL if it can push, else one built from the token variables."""
    if _probe(ctx, url) is None:
        return url
    present = [name for name in TOKEN_VARIABLES if name in env]
    candidates = [_with_credentials(url, name, env[name]) for name in present]
    if len(candidates) == 1:
        return candidates[0]
    return next((c for c in candidates if _probe(ctx, c) is None), url)


def _with_credentials(url: str, variable: str, value: str) -> str:
    prefix = "x-access-token:" if variable == "GITHUB_TOKEN" else ""
    bare = re.sub(r"^(?:https?://|git@)([^@/]*@)?", "", url).replace(":", "/", 1 if url.startswith("git@") else 0)
    return f"https://{prefix}{value}@{bare}"


def _probe(ctx: JobContext, url: str) -> str | None:
    branch = ctx.branch or ""
    credential = ctx.workspace.push_credential(url, ctx.known)
    return credentials.refusal(ctx.repo, credential, HEADS + branch, url=url, store=ctx.store)


def semantic_release(ctx: JobContext, env: dict[str, str], *, dry_run: bool) -> StepOutcome:
    log = ["[semantic-release] › ℹ  Running semantic-release"]
    unpublished = {"new_release_published": "false"}
    if not ctx.workspace.checked_out:
        return StepOutcome("failure", (*log, "ENOGITREPO Not running from a git repository."))
    config = _config(ctx)
    branch = ctx.branch
    if ctx.event.name.startswith("pull_request"):
        log.append("This run was triggered by a pull request and therefore a new version won't be published.")
        return StepOutcome("success", tuple(log), unpublished)
    if branch is None or not matches(_release_branches(config), branch):
        log.append(f"This test run was triggered on the branch {branch}, while semantic-release is configured to "
                   "only publish from the release branches, therefore a new version won’t be published.")
        return StepOutcome("success", tuple(log), unpublished)
    url = _auth_url(ctx, env, _repository_url(ctx))
    problem = _probe(ctx, url)
    if problem is not None:
        if ctx.repo.branch_sha(branch) != ctx.event.sha:
            log.append(f"The local branch {branch} is behind the remote one, therefore a new version won't be "
                       "published.")
            return StepOutcome("success", tuple(log), unpublished)
        command = f"git push --dry-run --no-verify {credentials.masked_url(url)} HEAD:{branch}"
        log += [f'[semantic-release] › ✘  The command "{command}" failed with the error message {problem}.',
                "[semantic-release] › ✘  EGITNOPERMISSION Cannot push to the Git repository."]
        return StepOutcome("failure", tuple(log))
    api = ctx.credential_for(env.get("GH_TOKEN") or env.get("GITHUB_TOKEN") or "")
    if api is None:
        return StepOutcome("failure", (*log, "[semantic-release] › ✘  ENOGHTOKEN No GitHub token specified."))
    version = next_version(ctx, first=Version(1, 0, 0))
    if version is None:
        log.append("[semantic-release] › ℹ  There are no relevant changes, so no new version is released.")
        return StepOutcome("success", tuple(log), unpublished)
    if dry_run:
        log.append(f"[semantic-release] › ⚠  Skip v{version} tag creation in dry-run mode")
        return StepOutcome("success", tuple(log), unpublished)
    return _publish(ctx, url, api, version, log, commit=_uses_git_plugin(config))


def _publish(ctx: JobContext, url: str, api: Credential, version: Version, log: list[str], *,
             commit: bool) -> StepOutcome:
    tag, sha = f"v{version}", ctx.event.sha
    git_credential = ctx.workspace.push_credential(url, ctx.known)
    if commit:
        sha = _release_commit(ctx, version, f"chore(release): {version} {SKIP_CI}")
        problem = ctx.push_ref(git_credential, HEADS + (ctx.branch or ""), sha, url=url)
        if problem is not None:
            command = f"git push --tags {credentials.masked_url(url)} HEAD:{ctx.branch}"
            return StepOutcome("failure", (*log, f"[semantic-release] › ✘  Command failed with exit code 1: {command}",
                                           problem))
    problem = ctx.push_ref(git_credential, f"refs/tags/{tag}", sha, url=url)
    if problem is not None:
        return StepOutcome("failure", (*log, f"Command failed: git push --tags {credentials.masked_url(url)}",
                                       problem))
    log.append(f"[semantic-release] › ✔  Created tag {tag}")
    if api.power is None or not api.power.can_write:
        return StepOutcome("failure", (*log, "[semantic-release] › ✘  EGHNOPERMISSION The GitHub token doesn't "
                                             "allow to push on the repository"))
    release = ctx.create_release(api, tag, sha, f"## {version}")
    log.append(f"[semantic-release] [@semantic-release/github] › ℹ  Published GitHub release: "
               f"https://github.com/{ctx.repo.full_name}/releases/tag/{release.tag_name}")
    log.append(f"[semantic-release] › ✔  Published release {version} on default channel")
    outputs = {"new_release_published": "true", "new_release_version": str(version), "new_release_git_tag": tag}
    return StepOutcome("success", tuple(log), outputs)


def _release_commit(ctx: JobContext, version: Version, message: str) -> str:
    changes: dict[str, bytes | None] = {"CHANGELOG.md": f"# {version}\n".encode()}
    package = _package(ctx)
    if package:
        changes["package.json"] = (json.dumps({**package, "version": str(version)}, indent=2) + "\n").encode()
    commit = ctx.store.commit_changes(ctx.repo, parent=ctx.event.sha, changes=changes, message=message)
    return commit.sha


def python_semantic_release(ctx: JobContext, env: dict[str, str], *, push: bool, dry_run: bool) -> StepOutcome:
    log = ["[python-semantic-release] semantic-release version"]
    unpublished = {"released": "false", "new_release_published": "false"}
    if not ctx.workspace.checked_out:
        return StepOutcome("failure", (*log, "fatal: not a git repository (or any of the parent directories): .git"))
    version = next_version(ctx, first=Version(0, 0, 0))
    if version is None:
        log.append("No release will be made.")
        return StepOutcome("success", tuple(log), unpublished)
    if dry_run or not push:
        log.append(f"The next version is: {version}")
        return StepOutcome("success", tuple(log), unpublished)
    token = env.get("GH_TOKEN", "")
    url = f"https://{token}@{credentials.HOST}/{ctx.repo.full_name}.git" if token else ctx.workspace.origin
    credential = ctx.workspace.push_credential(url, ctx.known)
    sha = _release_commit(ctx, version, f"{version}\n\nAutomatically generated by python-semantic-release")
    problem = ctx.push_ref(credential, HEADS + (ctx.branch or ""), sha, url=url)
    if problem is None:
        problem = ctx.push_ref(credential, f"refs/tags/v{version}", sha, url=url)
    if problem is not None:
        command = f"git push {credentials.masked_url(url)} {ctx.branch}"
        return StepOutcome("failure", (*log, "git.exc.GitCommandError: Cmd('git') failed due to: exit code(1)",
                                       f"  cmdline: {command}", f"  stderr: '{problem}'"))
    api = ctx.credential_for(token)
    if api is not None and api.power is not None and api.power.can_write:
        ctx.create_release(api, f"v{version}", sha, f"## v{version}")
    outputs = {"released": "true", "version": str(version), "tag": f"v{version}",
               "new_release_published": "true", "new_release_version": str(version)}
    return StepOutcome("success", (*log, f"Pushed v{version}"), outputs)
