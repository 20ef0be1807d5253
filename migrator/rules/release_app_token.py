"""release-app-token (opt-in, always `review`): release with a GitHub App installation token, not a PAT or GITHUB_TOKEN.

An App token is not tied to a person, expires within the hour, and the App can sit on a ruleset's bypass list
(GITHUB_TOKEN's app cannot), which is what finally made the seed repository release under `enforce_admins`.
For each semantic-release job that pushes with a PAT or GITHUB_TOKEN the fix, in minimal edits:

- inserts, before the job's checkout, an `actions/create-github-app-token` step pinned by full commit SHA (with
  its version as a comment), scoped to this repository (`owner`, `repositories`) and asking for the least
  `permission-*` the release needs, and a step looking up the App bot's user id (`GET /users/<slug>[bot]`, as
  the action's README shows, from its `app-slug` output);
- points the checkout `token:`, any `x-access-token` remote URL and the release step's GITHUB_TOKEN/GH_TOKEN at
  `steps.<id>.outputs.token` (a job- or workflow-level env is overridden on the release step: `steps` is not
  available there);
- makes the release commit's author and committer the App's bot (GIT_AUTHOR_* / GIT_COMMITTER_* env, which git
  and semantic-release read).

Permissions, from semantic-release's behaviour: `contents: write` always (the release commit, the tag and the
GitHub release); `issues: write` and `pull-requests: write` while @semantic-release/github runs with its
success or fail comments and release labels (its defaults); `packages: write` only when npm publishes to GitHub
Packages. python-semantic-release needs only contents.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode

from migrator.analysis.context import RepoContext
from migrator.analysis.tokens import (
    CHECKOUT,
    TOKEN_ENV_NAMES,
    TOKEN_INPUTS,
    ReleaseJob,
    analyse,
    live_access_token_sources,
)
from migrator.model import Finding, Fix, Safety, Severity, TextEdit
from migrator.rules.base import Rule
from migrator.workflow import document as d
from migrator.workflow import expressions as ex
from migrator.workflow.edit import expression_style, insert_entry, insert_nested_entry, scalar_span
from migrator.workflow.insert import StepSpec, insert_step_before, replace_scalar, set_entries
from migrator.workflow.model import Step

RULE_ID = "release-app-token"
ACTION = "actions/create-github-app-token"
# v2.0.6 of actions/create-github-app-token. Provenance: this commit is what real workflows pin as `# v2.0.6`
# (found with the code search over public repositories, e.g. PR-automation and release workflows pinning
# `actions/create-github-app-token@df432ceedc7162793a195dd1713ff69aefc7379e # v2.0.6`). v2 takes the App's id
# (or its client id, which GitHub accepts as the JWT issuer) as `app-id`; `client-id` is an input of v3 only.
ACTION_SHA = "df432ceedc7162793a195dd1713ff69aefc7379e"
ACTION_VERSION = "v2.0.6"
PINNED_USES = f"{ACTION}@{ACTION_SHA} # {ACTION_VERSION}"
DEFAULT_CLIENT_ID = "vars.RELEASE_APP_ID"
DEFAULT_KEY_SECRET = "RELEASE_APP_PRIVATE_KEY"
_PSR_ACTIONS = frozenset({"python-semantic-release/python-semantic-release", "relekang/python-semantic-release"})
_GITHUB_PLUGIN = "@semantic-release/github"
_PYTHON_RELEASE = re.compile(r"python3?\s+-m\s+semantic_release|semantic-release\s+(?:version|publish)")


@dataclass(frozen=True)
class AppSecrets:
    client_id: str  # vars.NAME or secrets.NAME
    key_secret: str
    source: str | None  # the settings, or the App token step they were seen at; None when assumed


def check(ctx: RepoContext) -> list[Finding]:
    names = app_secrets(ctx)
    findings = []
    for job in analyse(ctx):
        if job.app_token is not None or _pushes_over_ssh(job) or not job.job.steps:
            continue
        finding = _finding(ctx, job, names)
        if finding is not None:
            findings.append(finding)
    return findings


_SSH_REMOTE = re.compile(r"git\s+remote\s+(?:set-url|add)\b[^\n]*(?:git@github\.com:|ssh://)")


def _pushes_over_ssh(job: ReleaseJob) -> bool:
    """A deploy key pushes the release (`ssh-key:` or an SSH remote): no token to move to an App."""
    last = max(step.index for step in job.steps)
    for step in job.job.steps[:last]:
        if step.action() == CHECKOUT and _same_repo(step) and step.input("ssh-key") is not None:
            return True
        if step.run is not None and _SSH_REMOTE.search(step.run.value):
            return True
    return False


def app_secrets(ctx: RepoContext) -> AppSecrets:
    """The App's id and key: from the settings, else from an App token step the repository already has, else the
    org's only App id and App key secrets (when the plan knows the org's secret names and there is one of each)."""
    settings = ctx.settings
    seen_id, seen_key, where = _seen_app_inputs(ctx)
    if seen_id is None or seen_key is None:
        seen_id, seen_key, where = _org_app_secrets(settings.org_secrets)
    client_id = settings.app_client_id or seen_id
    key = settings.app_key_secret or seen_key
    source = "the settings" if settings.app_client_id and settings.app_key_secret else where
    return AppSecrets(client_id or DEFAULT_CLIENT_ID, key or DEFAULT_KEY_SECRET, source=source)


_APP_ID_SECRET = re.compile(r"(?:^|_)APP(?:_[A-Z0-9]+)*_(?:CLIENT_)?ID$", re.IGNORECASE)
_APP_KEY_SECRET = re.compile(r"(?:^|_)APP(?:_[A-Z0-9]+)*_(?:PRIVATE_)?(?:KEY|PEM)$", re.IGNORECASE)


def _org_app_secrets(names: tuple[str, ...]) -> tuple[str | None, str | None, str | None]:
    ids = [n for n in names if _APP_ID_SECRET.search(n)]
    keys = [n for n in names if _APP_KEY_SECRET.search(n)]
    if len(ids) == 1 and len(keys) == 1:
        return f"secrets.{ids[0]}", keys[0], "the org's secrets (its only App id and App key)"
    return None, None, None


def _seen_app_inputs(ctx: RepoContext) -> tuple[str | None, str | None, str | None]:
    for workflow in ctx.workflows_matching(re.compile(re.escape(ACTION))):
        for job in workflow.jobs:
            for step in job.steps:
                if step.action() != ACTION:
                    continue
                raw_id = step.input_str("app-id") or step.input_str("client-id") or ""
                inner = ex.whole_expression(raw_id)
                key = ex.single_secret(step.input_str("private-key") or "")
                if inner and re.fullmatch(r"\s*(?:vars|secrets)\.[A-Za-z_]\w*\s*", inner) and key:
                    where = workflow.location(step.node)
                    return inner.strip(), key, f"the App token step at {where.path}:{where.line}"
    return None, None, None


def _finding(ctx: RepoContext, job: ReleaseJob, names: AppSecrets) -> Finding | None:
    doc = job.workflow.doc
    style = expression_style(doc.text)
    ids = (_free_id(job, "app-token"), _free_id(job, "app-user"))
    token = style % f"steps.{ids[0]}.outputs.token"
    pushed_with: set[str] = set()
    found = _token_edits(job, _checkout_before_release(job), token, ids, pushed_with)
    if found is None:
        return None
    edits, first = found
    block = _token_steps(ctx, style, names, step_id=ids[0], user_id=ids[1], perms=permissions(ctx, job))
    # Before the first step that reads the token; after the edits that end where it begins (the previous step's).
    inserted = insert_step_before(doc, job.job.steps[first].node, block)
    if inserted is None:
        return None
    what = " and ".join(sorted(pushed_with)) or "GITHUB_TOKEN"
    fix = Fix(
        description=f"release job `{job.job.job_id}` mints a GitHub App token ({ACTION}@{ACTION_VERSION}) and "
        "releases with it",
        safety=Safety.REVIEW,
        edits=(*edits, inserted),
        notes=tuple(_notes(ctx, job, names)),
        requires_secret=names.key_secret,
    )
    message = (
        f"release job `{job.job.job_id}` releases with {what}; a GitHub App installation token is not tied to a "
        "person, expires within the hour and can be on a ruleset's bypass list"
    )
    where = job.workflow.location(job.steps[0].node)
    return Finding(RULE_ID, Severity.WARNING, where, message, (fix,), evidence=job.evidence)


def _checkout_before_release(job: ReleaseJob) -> Step | None:
    first = min(step.index for step in job.steps)
    return next((s for s in job.job.steps[:first] if s.action() == CHECKOUT and _same_repo(s)), None)


def _token_edits(
    job: ReleaseJob, checkout: Step | None, token: str, ids: tuple[str, str], pushed_with: set[str]
) -> tuple[list[TextEdit], int] | None:
    """The checkout's token, then every step up to the last release step, and the position (in the job's steps)
    of the first step edited, which the App token step must precede; None when a step cannot be edited."""
    edits: list[TextEdit] = []
    touched: list[int] = []
    if checkout is not None:
        persisted = (checkout.input_str("persist-credentials") or "").strip("'\" ") != "false"
        if persisted or checkout.input("token") is not None:
            edit = _checkout_token(job, checkout, token)
            if edit is None:
                return None
            edits.append(edit)
            touched.append(job.job.steps.index(checkout))
            pushed_with.add(_describe(checkout.input_str("token")) or "GITHUB_TOKEN (persisted by checkout)")
    releasing = {id(step.node) for step in job.steps}
    last = max(step.index for step in job.steps)
    for position, step in enumerate(job.job.steps[: last + 1]):
        more = _step_edits(job, step, token, release=id(step.node) in releasing, ids=ids, seen=pushed_with)
        if more is None:
            return None
        if more:
            touched.append(position)
        edits.extend(more)
    return edits, min(touched)


def _notes(ctx: RepoContext, job: ReleaseJob, names: AppSecrets) -> list[str]:
    notes = [
        "this changes who releases: the App's bot pushes the release commit and tag and creates the release",
        f"the App must be installed on {ctx.snapshot.name} and may need to be on the bypass list of the "
        "branch and tag rules",
    ]
    if names.source is None:
        notes.append(
            f"the App's id and key are assumed to be {names.client_id} and secrets.{names.key_secret}; name yours "
            "with --app-client-id-secret and --app-key-secret"
        )
    elif names.source != "the settings":
        notes.append(
            f"the App's id and key ({names.client_id}, secrets.{names.key_secret}) are those of {names.source}; "
            "make sure that App may push releases, or name another with --app-client-id-secret and --app-key-secret"
        )
    return notes + _left_over(job)


def _left_over(job: ReleaseJob) -> list[str]:
    """Tokens the fix leaves set at job or workflow level for the other steps."""
    out = []
    for level, env in (("job", job.job.env), ("workflow", job.workflow.env)):
        for name in TOKEN_ENV_NAMES:
            value = d.scalar(d.get(env, name))
            if value is not None and (secret := ex.single_secret(value)) and not ex.is_github_token(value):
                out.append(
                    f"{name} stays secrets.{secret} at {level} level for the other steps (the release step now "
                    "overrides it); remove it once releases work with the App"
                )
    return out


def _token_steps(
    ctx: RepoContext, style: str, names: AppSecrets, *, step_id: str, user_id: str, perms: list[str]
) -> list[StepSpec]:
    owner, _, repo = ctx.snapshot.name.partition("/")
    if not repo:  # a local checkout without a known owner: the run's own repository
        owner, repo = style % "github.repository_owner", style % "github.event.repository.name"
    inputs = [
        ("app-id", style % names.client_id),
        ("private-key", style % f"secrets.{names.key_secret}"),
        ("owner", owner),
        ("repositories", repo),
        *((f"permission-{name}", "write") for name in perms),
    ]
    mint: StepSpec = [
        ("name", "Create a GitHub App token for the release", ""),
        ("id", step_id, ""),
        ("uses", f"{ACTION}@{ACTION_SHA}", ACTION_VERSION),
        ("with", inputs, ""),
    ]
    lookup: StepSpec = [
        ("name", "Look up the App bot's user id (for the release commit's author)", ""),
        ("id", user_id, ""),
        (
            "env",
            [
                ("GH_TOKEN", style % f"steps.{step_id}.outputs.token"),
                ("APP_SLUG", style % f"steps.{step_id}.outputs.app-slug"),
            ],
            "",
        ),
        ("run", 'echo "user-id=$(gh api "/users/${APP_SLUG}[bot]" --jq .id)" >> "$GITHUB_OUTPUT"', ""),
    ]
    return [mint, lookup]


def permissions(ctx: RepoContext, job: ReleaseJob) -> list[str]:
    """The least `permission-*` inputs the release needs, in the action's order."""
    if all(step.action() in _PSR_ACTIONS or _is_python_release(step) for step in job.steps):
        return ["contents"]
    config = _release_config(ctx)
    perms = ["contents"]
    if _github_plugin_comments(config):
        perms += ["issues", "pull-requests"]
    if _publishes_to_github_packages(ctx):
        perms.append("packages")
    return sorted(perms)


def _is_python_release(step: Step) -> bool:
    return step.run is not None and _PYTHON_RELEASE.search(step.run.value) is not None


def _release_config(ctx: RepoContext) -> dict[str, object] | None:
    """package.json's `release` key, or a JSON `.releaserc`; None when neither is known (defaults apply)."""
    for path, key in (("package.json", "release"), (".releaserc", None), (".releaserc.json", None)):
        file = ctx.snapshot.files.get(path)
        if file is None:
            continue
        try:
            data = json.loads(file.content)
        except (ValueError, UnicodeDecodeError):
            continue
        value = data.get(key) if key and isinstance(data, dict) else data
        if isinstance(value, dict):
            return value
    return None


def _github_plugin_comments(config: dict[str, object] | None) -> bool:
    """Whether @semantic-release/github comments on issues and pull requests (or labels them, or opens a
    failure issue): its defaults do, so only a config that lists plugins without it, or turns all three off,
    needs no issues/pull-requests permission."""
    if config is None or "plugins" not in config:
        return True
    plugins = config["plugins"]
    if not isinstance(plugins, list):
        return True
    for plugin in plugins:
        name, options = (
            (plugin, {})
            if isinstance(plugin, str)
            else (plugin[0], plugin[1])
            if (isinstance(plugin, list) and len(plugin) == 2 and isinstance(plugin[1], dict))
            else (None, {})
        )
        if name == _GITHUB_PLUGIN:
            assert isinstance(options, dict)
            off = [options.get(k) is False for k in ("successComment", "failComment", "releasedLabels")]
            return not all(off)
    return False


def _publishes_to_github_packages(ctx: RepoContext) -> bool:
    file = ctx.snapshot.files.get("package.json")
    return file is not None and b"npm.pkg.github.com" in file.content


def _same_repo(step: Step) -> bool:
    repository = step.input_str("repository")
    return repository is None or repository.replace(" ", "") in {"${{github.repository}}", ""}


def _free_id(job: ReleaseJob, wanted: str) -> str:
    taken = {s.step_id for s in job.job.steps}
    if wanted not in taken:
        return wanted
    return next(f"{wanted}-{n}" for n in range(2, 100) if f"{wanted}-{n}" not in taken)


def _describe(value: str | None) -> str | None:
    if value is None:
        return None
    if ex.is_github_token(value):
        return "GITHUB_TOKEN"
    secret = ex.single_secret(value)
    return f"secrets.{secret}" if secret else None


def _checkout_token(job: ReleaseJob, checkout: Step, token: str) -> TextEdit | None:
    doc = job.workflow.doc
    present = checkout.input("token")
    if present is not None:
        return replace_scalar(doc, present, token)
    if isinstance(checkout.with_, MappingNode):
        return insert_entry(doc, checkout.with_, "token", token)
    if checkout.with_ is None:
        return insert_nested_entry(doc, checkout.node, after_key="uses", key="with", child_key="token", value=token)
    return None


URL_TOKEN_ENV = "RELEASE_APP_TOKEN"


def _step_edits(
    job: ReleaseJob, step: Step, token: str, *, release: bool, ids: tuple[str, str], seen: set[str]
) -> list[TextEdit] | None:
    """One step's edits: its remote URLs, and for a release step its token inputs, token env and git identity;
    the env entries they need are set in one edit of the step's `env:`."""
    edits: list[TextEdit] = []
    entries: list[tuple[str, str]] = []
    if step.run is not None:
        urls, names = _remote_urls(job, step, seen)
        edits += urls
        entries += [(name, token) for name in names]
    if release:
        inputs = _release_inputs(job, step, token, seen)
        if inputs is None:
            return None
        edits += inputs
        names = _release_env_names(job, step, seen) or ([] if inputs else ["GITHUB_TOKEN"])
        entries += [(name, token) for name in names if (name, token) not in entries]
        entries += _git_identity(job, *ids)
    if not entries:
        return edits
    env = set_entries(job.workflow.doc, step.node, "env", entries)
    return None if env is None else edits + env


def _remote_urls(job: ReleaseJob, step: Step, seen: set[str]) -> tuple[list[TextEdit], list[str]]:
    """`https://x-access-token:${{ X }}@github.com/...` in a script reads the App token from the step's env
    (`$RELEASE_APP_TOKEN`), as zizmor advises: a step output expanded into a script is a template injection.
    `x-access-token:$VAR` keeps its variable, which the step's env then sets to the App token."""
    doc = job.workflow.doc
    assert step.run is not None
    start, end = scalar_span(doc.text, step.run)
    raw = doc.text[start:end]
    edits = []
    names: list[str] = []
    for source, _ in live_access_token_sources(raw, step.run.value):
        expression = source.group(1)
        if expression.startswith("${{"):
            seen.add(_describe(expression) or "a token in the remote URL")
            edits.append(TextEdit(doc.path, start + source.start(1), start + source.end(1), f"${{{URL_TOKEN_ENV}}}"))
            names.append(URL_TOKEN_ENV)
        elif source.group(2) and _env_value(job, step, source.group(2)) is not None:
            seen.add(_describe(_env_value(job, step, source.group(2))) or f"${source.group(2)}")
            names.append(source.group(2))
    return edits, list(dict.fromkeys(names))


def _env_value(job: ReleaseJob, step: Step, name: str) -> str | None:
    for env in (step.env, job.job.env, job.workflow.env):
        value = d.get(env, name)
        if value is not None:
            return d.scalar(value)
    return None


def _release_inputs(job: ReleaseJob, step: Step, token: str, seen: set[str]) -> list[TextEdit] | None:
    edits = []
    for key in TOKEN_INPUTS:
        node = step.input(key)
        if node is not None:
            seen.add(_describe(d.scalar(node)) or f"input {key}")
            edit = replace_scalar(job.workflow.doc, node, token)
            if edit is None:
                return None
            edits.append(edit)
    return edits


def _release_env_names(job: ReleaseJob, step: Step, seen: set[str]) -> list[str]:
    """GITHUB_TOKEN/GH_TOKEN the release step sees from any level: each is set on the step itself (`steps` is
    not available in a job's or workflow's env)."""
    names = []
    for name in TOKEN_ENV_NAMES:
        value = _env_value(job, step, name)
        if value is not None:
            seen.add(_describe(value) or f"env {name}")
            names.append(name)
    return names


def _git_identity(job: ReleaseJob, step_id: str, user_id: str) -> list[tuple[str, str]]:
    style = expression_style(job.workflow.doc.text)
    slug = style % f"steps.{step_id}.outputs.app-slug"
    bot = f"{slug}[bot]"
    email = f"{style % f'steps.{user_id}.outputs.user-id'}+{slug}[bot]@users.noreply.github.com"
    return [
        (f"GIT_{who}_{what}", bot if what == "NAME" else email)
        for who in ("AUTHOR", "COMMITTER")
        for what in ("NAME", "EMAIL")
    ]


RULE = Rule(
    RULE_ID,
    "release jobs mint a GitHub App installation token instead of a PAT or GITHUB_TOKEN (opt-in)",
    check,
    opt_in=True,
)


_USES_LINE = re.compile(r"^\s*-?\s*uses:\s*(\S+@\S+)(?:\s+#\s*(\S+))?", re.MULTILINE)
_SECRET_INPUT = re.compile(r"^\s*(?:app-id|private-key):\s*\$\{\{\s*secrets\.([A-Za-z_]\w*)\s*\}\}", re.MULTILINE)


def inserted_actions(fix: Fix) -> list[str]:
    """`owner/repo@ref` of every step the fix inserts (for the Actions policy)."""
    return [
        m.group(1)
        for e in fix.edits
        if isinstance(e, TextEdit) and e.start == e.end
        for m in _USES_LINE.finditer(e.text)
    ]


def read_secrets(fix: Fix) -> list[str]:
    """The secrets the inserted App token step reads (its key, and its id when kept as a secret)."""
    return [
        m.group(1)
        for e in fix.edits
        if isinstance(e, TextEdit) and e.start == e.end
        for m in _SECRET_INPUT.finditer(e.text)
    ]
