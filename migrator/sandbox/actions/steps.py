"""The steps the model interprets; every other step succeeds.

- `actions/checkout` (README, `action.yml`): `token` (default `github.token`) is persisted as an http extraheader
  unless `persist-credentials: false`; `ssh-key` makes `origin` an SSH URL pushed as that key. A checkout with a
  `path` (or of another repository) leaves the workspace root's git configuration alone.
- `run:` scripts, line by line: `git remote set-url origin URL`, `git push`, `docker push IMAGE[:TAG]`, and the
  semantic-release commands (`npx`/`yarn`/`pnpm`/`bunx semantic-release`, `npm run X` where package.json's script
  `X` runs it, also in a workspace package: `yarn workspace P run X`, `npm run X -w P`, `pnpm --filter P run X`;
  `semantic-release version|publish` and `python -m semantic_release` for python-semantic-release).
- `actions/create-github-app-token` (`app_token.py`): an App installation token from the App's id and key.
- `cycjimmy/semantic-release-action` (inputs `dry_run`, outputs `new_release_published`, `new_release_version`)
  and `python-semantic-release/python-semantic-release` (input `github_token` becomes `GH_TOKEN`).
- `docker/metadata-action` (README "tags input", "flavor input"): `type=raw,value=`, `type=ref,event=branch|tag`,
  `type=semver,pattern=` with `{{version}}`, `{{major}}`, `{{minor}}`, `type=sha`; by default the ref's tags;
  `latest` is added for tag refs and semver tags unless `flavor: latest=false`.
- `docker/build-push-action` with `push: true` pushes each of `tags` (comma or newline separated).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex

from migrator.sandbox.actions import release
from migrator.sandbox.actions.app_token import create_app_token
from migrator.sandbox.actions.documents import Step
from migrator.sandbox.actions.expressions import interpolate
from migrator.sandbox.actions.runtime import JobContext, StepOutcome, Workspace
from migrator.sandbox.store import HEADS

SEMANTIC_RELEASE = re.compile(r"(?:^|[\s;&|(])(?:npx|yarn|pnpm(?:\s+exec)?|pnpx|bunx|npm\s+exec)\s+(?:--\S+\s+)*"
                              r"(?:-p\s+\S+\s+)*semantic-release(?:@\S+)?(?P<args>[^\n;&|]*)")
BARE_SEMANTIC_RELEASE = re.compile(r"(?:^|[\s;&|(])semantic-release(?P<args>(?:\s+[^\n;&|]*)?)$")
PYTHON_SEMANTIC_RELEASE = re.compile(r"(?:^|[\s;&|(])(?:semantic-release|python3?\s+-m\s+semantic_release)"
                                     r"(?:\s+--?\S+)*\s+(?P<cmd>version|publish)(?P<args>[^\n;&|]*)")
# A script of one workspace package (yarn/npm/pnpm docs: "workspace", "--workspace", "--filter"):
WORKSPACE_RUN = re.compile(
    r"(?:^|[\s;&|(])(?:yarn\s+workspace\s+(?P<yarn>\S+)\s+(?:run\s+)?(?P<yname>[\w:.-]+)"
    r"|npm\s+run(?:-script)?\s+(?P<nname>[\w:.-]+)\s+(?:-w|--workspace)[=\s](?P<npm>\S+)"
    r"|pnpm\s+(?:--filter|-F)[=\s](?P<pnpm>\S+)\s+(?:run\s+)?(?P<pname>[\w:.-]+))"
)
NPM_RUN = re.compile(r"(?:^|[\s;&|(])(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+(?P<name>[\w:.-]+)")


def run_step(ctx: JobContext, step: Step, env: dict[str, str]) -> StepOutcome:
    action = step.action
    refused = _refused_by_policy(ctx, step.uses or "")
    if refused is not None:
        return StepOutcome("failure", (refused,))
    inputs = {k: interpolate(v, ctx.scope(env)) for k, v in step.with_.items()}
    if action == "actions/checkout":
        return _checkout(ctx, inputs)
    if action == "actions/create-github-app-token":
        return create_app_token(ctx, inputs)
    if action == "cycjimmy/semantic-release-action":
        return release.semantic_release(ctx, env, dry_run=_true(inputs.get("dry_run")))
    if action == "python-semantic-release/python-semantic-release":
        token = inputs.get("github_token", "")
        psr_env = {**env, "GH_TOKEN": token} if token else env
        return release.python_semantic_release(ctx, psr_env, push=inputs.get("push", "true") != "false",
                                               dry_run=_true(inputs.get("no_operation_mode")))
    if action == "docker/metadata-action":
        return _metadata(ctx, inputs)
    if action == "docker/build-push-action":
        return _build_push(ctx, inputs)
    if step.run is not None:
        return _script(ctx, interpolate(step.run, ctx.scope(env)), env)
    return StepOutcome("success")


def _refused_by_policy(ctx: JobContext, uses: str) -> str | None:
    """GitHub's refusal of an action the org's (or repository's) Actions permissions do not allow: outside the
    allowed list, or not pinned to a full commit SHA under `sha_pinning_required` (GitHub docs, "Managing GitHub
    Actions settings for a repository": allowed actions and SHA pinning). Local and docker actions are left be."""
    if not uses or uses.startswith(("./", "docker://")):
        return None
    policy = ctx.store.actions_policy(ctx.repo)
    name, _, ref = uses.partition("@")
    where = f"{uses} is not allowed in {ctx.repo.full_name}"
    if not policy.enabled or policy.allowed_actions == "local_only":
        return f"Error: The action {where} because only local actions may run"
    if policy.allowed_actions == "selected":
        owner = name.split("/", 1)[0].lower()
        allowed = (policy.github_owned_allowed and owner in ("actions", "github")) or any(
            fnmatch.fnmatchcase(uses, p) or fnmatch.fnmatchcase(name, p) for p in policy.patterns_allowed
        )
        if not allowed:
            return (f"Error: The action {where} because all actions must be from a repository owned by "
                    f"{ctx.repo.org}, created by GitHub, or match one of the patterns: "
                    f"{', '.join(policy.patterns_allowed) or '(none)'}")
    if policy.sha_pinning_required and not re.fullmatch(r"[0-9a-f]{40}", ref):
        return f"Error: The action {where} because all actions must be pinned to a full-length commit SHA."
    return None


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _checkout(ctx: JobContext, inputs: dict[str, str]) -> StepOutcome:
    repository = inputs.get("repository") or ctx.repo.full_name
    if repository.lower() != ctx.repo.full_name.lower():
        return StepOutcome("success", (f"Checked out {repository} (another repository: not modelled)",))
    if inputs.get("path", "").strip("./"):
        # a checkout into a sub-folder has its own .git/config; later steps run in the workspace root
        return StepOutcome("success", (f"Checked out {repository} into {inputs['path']}",))
    token_value = inputs.get("token") or ctx.github_token.value
    token = ctx.credential_for(token_value)
    persist = inputs.get("persist-credentials", "true").lower() != "false"
    ssh = ctx.workspace.ssh
    origin = ctx.https_url
    if inputs.get("ssh-key"):
        ssh = ctx.deploy_key()
        origin = f"git@github.com:{ctx.repo.full_name}.git"
    if token is None and not inputs.get("ssh-key"):
        return StepOutcome("failure", ("Error: Input required and not supplied: token",))
    ctx.workspace = Workspace(checked_out=True, origin=origin, extraheader=token if persist and not inputs.get(
        "ssh-key") else None, ssh=ssh if persist else None)
    log = [f"Syncing repository: {ctx.repo.full_name}", f"Checking out the ref {ctx.event.ref}"]
    if ctx.workspace.extraheader is not None:
        log.append("git config --local http.https://github.com/.extraheader AUTHORIZATION: basic ***")
    return StepOutcome("success", tuple(log))


def _lines(script: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def _script(ctx: JobContext, script: str, env: dict[str, str]) -> StepOutcome:
    log: list[str] = []
    outputs: dict[str, str] = {}
    for line in _lines(script):
        outcome = _command(ctx, _expand_shell(line, env), env)
        log.extend(outcome.log)
        outputs.update(outcome.outputs)
        if outcome.conclusion != "success":
            return StepOutcome("failure", (*log, "Error: Process completed with exit code 1."), outputs)
    return StepOutcome("success", tuple(log), outputs)


def _expand_shell(line: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m[1], m[0]), line)


def _command(ctx: JobContext, line: str, env: dict[str, str]) -> StepOutcome:
    if match := PYTHON_SEMANTIC_RELEASE.search(line):
        args = match["args"]
        return release.python_semantic_release(ctx, env, push="--no-push" not in args,
                                               dry_run="--noop" in line or "--dry-run" in line)
    if match := SEMANTIC_RELEASE.search(line) or BARE_SEMANTIC_RELEASE.search(line):
        args = match["args"]
        return release.semantic_release(ctx, env, dry_run=bool(re.search(r"(?:^|\s)(?:--dry-run|-d)\b", args)))
    if match := WORKSPACE_RUN.search(line):
        package = match["yarn"] or match["npm"] or match["pnpm"]
        script = _workspace_script(ctx, package, match["yname"] or match["nname"] or match["pname"])
        if script is not None:
            return _command(ctx, script, env)
    if match := NPM_RUN.search(line):
        script = _package_script(ctx, match["name"])
        if script is not None and script != line:
            return _command(ctx, script, env)
    words = _split(line)
    if words[:4] == ["git", "remote", "set-url", "origin"] and len(words) > 4:
        ctx.workspace = Workspace(ctx.workspace.checked_out, words[4], ctx.workspace.extraheader, ctx.workspace.ssh)
        return StepOutcome("success")
    if words[:2] == ["git", "push"]:
        return _git_push(ctx, words[2:])
    if words[:2] == ["docker", "push"] and len(words) > 2:
        image, _, tag = words[-1].rpartition(":") if ":" in words[-1].rsplit("/", 1)[-1] else (words[-1], "", "latest")
        ctx.push_image(image, tag)
        return StepOutcome("success", (f"The push refers to repository [{image}]",))
    return StepOutcome("success")


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _package_script(ctx: JobContext, name: str, path: str = "package.json") -> str | None:
    scripts = _manifest(ctx, path).get("scripts")
    value = scripts.get(name) if isinstance(scripts, dict) else None
    return str(value) if value else None


def _manifest(ctx: JobContext, path: str) -> dict[str, object]:
    data = ctx.file(path)
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _workspace_script(ctx: JobContext, package: str, name: str) -> str | None:
    """The script of the workspace package named `package` (by its package.json `name`, or its folder)."""
    patterns = _manifest(ctx, "package.json").get("workspaces")
    if isinstance(patterns, dict):  # yarn's {"packages": [...]} form
        patterns = patterns.get("packages")
    globs = [str(g).rstrip("/") + "/package.json" for g in patterns] if isinstance(patterns, list) else []
    for path in ctx.paths():
        if any(fnmatch.fnmatch(path, g) for g in globs):
            manifest = _manifest(ctx, path)
            if manifest.get("name") == package or path.rsplit("/", 2)[-2] == package.rsplit("/", 1)[-1]:
                return _package_script(ctx, name, path)
    return None


def _git_push(ctx: JobContext, args: list[str]) -> StepOutcome:
    """`git push [remote-or-url] [refspec]`: the run's commit to its branch (new commits are not modelled)."""
    positional = [a for a in args if not a.startswith("-")]
    url = ctx.workspace.origin
    if positional and positional[0] not in ("origin",):
        url = positional[0] if "://" in positional[0] or positional[0].startswith("git@") else url
    if not ctx.workspace.checked_out:
        return StepOutcome("failure", ("fatal: not a git repository (or any of the parent directories): .git",))
    credential = ctx.workspace.push_credential(url, ctx.known)
    branch = ctx.branch
    if branch is None:
        return StepOutcome("success", ("Everything up-to-date",))
    problem = ctx.push_ref(credential, HEADS + branch, ctx.event.sha, url=url)
    return StepOutcome("failure", tuple(problem.splitlines())) if problem else StepOutcome("success")


def _metadata(ctx: JobContext, inputs: dict[str, str]) -> StepOutcome:
    images = [i.strip() for i in re.split(r"[\n,]", inputs.get("images", "")) if i.strip()]
    tags = _meta_tags(ctx, inputs.get("tags", ""), "latest=false" not in inputs.get("flavor", ""))
    references = [f"{image}:{tag}" for image in images for tag in tags]
    outputs = {"tags": "\n".join(references), "version": tags[0] if tags else ""}
    return StepOutcome("success", tuple(references), outputs)


def _meta_tags(ctx: JobContext, spec: str, latest: bool) -> list[str]:
    event, found = ctx.event, []
    lines = [s.strip() for s in spec.splitlines() if s.strip()] or [
        "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr"]
    semver = None
    if event.is_tag and (match := re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(-\S+)?", event.ref_name)):
        semver = match
    for line in lines:
        attrs = dict(part.split("=", 1) for part in line.split(",") if "=" in part)
        kind = attrs.get("type", "")
        if kind == "raw" and attrs.get("value"):
            found.append(attrs["value"])
        elif kind == "ref" and attrs.get("event") == "tag" and event.is_tag:
            found.append(event.ref_name)
            found += ["latest"] if latest else []
        elif kind == "ref" and attrs.get("event") == "branch" and event.ref.startswith(HEADS):
            found.append(re.sub(r"[^\w.-]", "-", event.ref_name))
        elif kind == "ref" and attrs.get("event") == "pr" and event.pull_number is not None:
            found.append(f"pr-{event.pull_number}")
        elif kind == "semver" and semver is not None:
            pattern = attrs.get("pattern", "{{version}}")
            version = f"{semver[1]}.{semver[2]}.{semver[3]}{semver[4] or ''}"
            found.append(pattern.replace("{{version}}", version).replace("{{major}}", semver[1])
                         .replace("{{minor}}", semver[2]).replace("{{patch}}", semver[3]))
            found += ["latest"] if latest and not semver[4] else []
        elif kind == "sha":
            found.append(f"sha-{event.sha[:7]}")
    return list(dict.fromkeys(found))


def _build_push(ctx: JobContext, inputs: dict[str, str]) -> StepOutcome:
    if not _true(inputs.get("push")):
        return StepOutcome("success", ("Image built, not pushed",))
    log = []
    for reference in [t.strip() for t in re.split(r"[\n,]", inputs.get("tags", "")) if t.strip()]:
        last = reference.rsplit("/", 1)[-1]
        image, tag = (reference.rsplit(":", 1) if ":" in last else (reference, "latest"))
        ctx.push_image(image, tag)
        log.append(f"pushing {image}:{tag}")
    return StepOutcome("success", tuple(log))

