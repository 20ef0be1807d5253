"""The image references (`image:tag`) a push writes on one concrete event.

docker/metadata-action tag rules are evaluated the way the action does (type=ref, semver, raw, sha,
edge, match, schedule, `enable=`, `flavor: latest=auto`), and written references get the event's
github context substituted. Whatever cannot be known (a step output other than semantic-release's
version, an input, a secret, a matrix value, a shell variable) leaves the reference unknown: it is
counted, and it never matches anything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from migrator.analysis import conditions
from migrator.analysis.events import Event
from migrator.analysis.images import NAME, OWNER, REPOSITORY, Push, RefSpec, image_name, metadata_images, resolve
from migrator.workflow import expressions as ex
from migrator.workflow.model import Job, Step, Workflow

_DEFAULT_META_TAGS = ("type=schedule", "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr")
_SEMVER = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<pre>-[0-9A-Za-z.-]+)?(?:\+[\w.]+)?$")
_SANITISE = re.compile(r"[^a-zA-Z0-9._-]+")


@dataclass(frozen=True)
class Scope:
    """What evaluation knows besides the event: the repository and known expression values."""

    repo: str  # owner/name, lowercase
    default_branch: str
    known: Mapping[str, str]  # expression (lowercase, no spaces) -> value, e.g. semantic-release's version


@dataclass(frozen=True)
class Refs:
    known: frozenset[str]  # `image:tag`, normalised
    uncertain: frozenset[str]  # pushed only when a condition nobody can evaluate holds
    unknown: int  # references that could not be resolved


def refs_on(push: Push, workflow: Workflow, event: Event, scope: Scope) -> Refs | None:
    """The references this push writes on the event; None when the push does not happen then."""
    context = {**event.context(scope.default_branch), **scope.known}
    gate = _and(
        conditions.evaluate(push.push_expr, context) if push.push_expr is not None else True,
        conditions.evaluate(push.step_if, context),
    )
    if gate is False:
        return None
    known: set[str] = set()
    uncertain: set[str] = set()
    unknown = 0
    for spec in push.specs:
        found, maybe, missing = _spec_refs(spec, push, workflow, event, scope)
        known.update(found)
        uncertain.update(maybe)
        unknown += missing
    if gate is None:
        uncertain |= known
        known = set()
    return Refs(frozenset(known), frozenset(uncertain - known), unknown)


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _spec_refs(
    spec: RefSpec, push: Push, workflow: Workflow, event: Event, scope: Scope
) -> tuple[set[str], set[str], int]:
    if spec.kind == "meta":
        owner = spec.job or push.job
        if spec.step is None or owner is None:
            return set(), set(), 1
        return _metadata_refs(spec.step, owner, workflow, event, scope)
    value = substitute(spec.text, event, scope)
    ref = _reference(value) if value is not None else None
    return ({ref}, set(), 0) if ref else (set(), set(), 1)


def _reference(value: str) -> str | None:
    name = image_name(value)
    if name is None:
        return None
    stripped = value.strip().strip("'\"").split("@", 1)[0]
    colon, slash = stripped.rfind(":"), stripped.rfind("/")
    tag = stripped[colon + 1 :] if colon > slash else "latest"
    if not tag or "$" in tag or "{" in tag:
        return None
    return f"{name}:{tag}"


def substitute(text: str, event: Event, scope: Scope) -> str | None:
    """The text with every expression and GitHub shell variable replaced, or None if one is unknown."""
    owner, _, name = scope.repo.partition("/")
    values = {
        **{k.lower(): v for k, v in event.context(scope.default_branch).items()},
        "github.repository": scope.repo,
        "github.repository_owner": owner,
        "github.event.repository.name": name,
        "github.sha": _sha(event),
        **scope.known,
    }
    for placeholder, value in ((REPOSITORY, scope.repo), (OWNER, owner), (NAME, name)):
        text = text.replace(placeholder, value)
    missing = False

    def expression(match: re.Match[str]) -> str:
        nonlocal missing
        key = re.sub(r"\s+", "", match.group(1)).lower()
        if key in values:
            return values[key]
        missing = True
        return match.group(0)

    shell = {"GITHUB_REF_NAME": "github.ref_name", "GITHUB_SHA": "github.sha", "GITHUB_REPOSITORY": "github.repository"}

    def variable(match: re.Match[str]) -> str:
        nonlocal missing
        key = shell.get(match.group(1))
        if key is not None and key in values:
            return values[key]
        missing = True
        return match.group(0)

    text = ex.EXPRESSION.sub(expression, text)
    text = re.sub(r"\$\{?(\w+)\}?", variable, text)
    return None if missing else text


def _sha(event: Event) -> str:
    """A stand-in commit id per event: a release's tag may point at a new commit, so never assume the same."""
    digest = hashlib.sha1(f"{event.name}\0{event.ref_kind}\0{event.ref}".encode(), usedforsecurity=False)
    return digest.hexdigest()


# --- docker/metadata-action ------------------------------------------------------------------


def _metadata_refs(
    step: Step, job: Job, workflow: Workflow, event: Event, scope: Scope
) -> tuple[set[str], set[str], int]:
    images = metadata_images(workflow, job, step)
    unknown = len([line for line in (step.input_str("images") or "").splitlines() if line.strip()]) - len(images)
    names = [substitute(i, event, scope) for i in images]
    flavor = _flavor(step.input_str("flavor"))
    tags, maybe = _meta_tags(step, workflow, job, event, scope, flavor)
    known = {f"{n}:{t}" for n in names if n for t in tags}
    uncertain = {f"{n}:{t}" for n in names if n for t in maybe}
    return known, uncertain, unknown + names.count(None)


def _flavor(raw: str | None) -> dict[str, str]:
    out = {"latest": "auto", "prefix": "", "suffix": ""}
    for line in (raw or "").splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() in out:
            out[key.strip()] = value.split(",")[0].strip()
    return out


def _meta_tags(  # noqa: PLR0917 - the step, where it lives, and the event: all needed
    step: Step, workflow: Workflow, job: Job, event: Event, scope: Scope, flavor: dict[str, str]
) -> tuple[set[str], set[str]]:
    lines = [line.strip() for line in (step.input_str("tags") or "").splitlines() if line.strip()]
    entries = lines or list(_DEFAULT_META_TAGS)
    tags: set[str] = set()
    maybe: set[str] = set()
    latest_auto = False
    for entry in entries:
        attrs = _attributes(resolve(entry, workflow, job, step))
        enabled = _enabled(attrs.get("enable"), event, scope)
        if enabled is False:
            continue
        value, auto = _tag_value(attrs, event, scope)
        if value is None:
            continue
        default_prefix = "sha-" if attrs.get("type") == "sha" else flavor["prefix"]
        text = attrs.get("prefix", default_prefix) + value + attrs.get("suffix", flavor["suffix"])
        final = substitute(_template(text, event, scope), event, scope)
        if final is None:
            continue  # an unknown value: never matches
        latest_auto |= auto
        (tags if enabled else maybe).add(_SANITISE.sub("-", final))
    latest = flavor["latest"]
    decided = conditions.evaluate(latest, event.context(scope.default_branch)) if "${{" in latest else None
    if latest == "true" or decided is True or (latest == "auto" and latest_auto):
        tags.add("latest")
    elif "${{" in latest and decided is None:
        maybe.add("latest")  # `latest=${{ <expression> }}` that cannot be evaluated
    return tags, maybe - tags


def _attributes(entry: str) -> dict[str, str]:
    if "type=" not in entry and "=" not in entry.split(",", 1)[0]:
        return {"type": "raw", "value": entry}
    out: dict[str, str] = {}
    for part in re.split(r",(?![^{]*\}\})", entry):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip()
    return out


def _enabled(raw: str | None, event: Event, scope: Scope) -> bool | None:
    if raw is None:
        return True
    if raw.strip() == "{{is_default_branch}}":
        return event.ref_kind == "branch" and event.ref == scope.default_branch
    return conditions.evaluate(raw, event.context(scope.default_branch))


def _tag_value(attrs: dict[str, str], event: Event, scope: Scope) -> tuple[str | None, bool]:
    """One tag rule's value on this event, and whether it makes `latest=auto` add `latest`."""
    kind = attrs.get("type", "raw")
    on_tag = event.ref_kind == "tag"
    if kind == "raw":
        return attrs.get("value") or None, False
    if kind == "ref":
        wanted = attrs.get("event", "")
        if wanted == "branch" and event.ref_kind == "branch" and event.name not in {"pull_request"}:
            return event.ref, False
        if wanted == "tag" and on_tag:
            return event.ref, True
        return None, False
    if kind in {"semver", "pep440"}:
        return _semver(attrs, event, scope)
    if kind == "sha":
        sha = _sha(event)
        return (sha if attrs.get("format") == "long" else sha[:7]), False
    if kind == "edge":
        return (
            ("edge", False)
            if event.ref_kind == "branch" and event.ref == attrs.get("branch", scope.default_branch)
            else (None, False)
        )
    if kind == "match" and on_tag:
        return _match(attrs, event.ref)
    if kind == "schedule":
        return ("nightly", False) if event.name == "schedule" else (None, False)
    return None, False


def _semver(attrs: dict[str, str], event: Event, scope: Scope) -> tuple[str | None, bool]:
    raw = attrs.get("value")
    tag = event.ref if event.ref_kind == "tag" else None
    value = substitute(raw, event, scope) if raw else tag
    parsed = _SEMVER.match(value or "")
    if parsed is None or value is None:
        return None, False
    pattern = attrs.get("pattern", "{{version}}")
    prerelease = parsed.group("pre") is not None
    if prerelease and "{{version}}" not in pattern and "{{raw}}" not in pattern:
        return None, False
    if parsed.group("major") == "0" and pattern.strip() == "{{major}}":
        return None, False
    version = value.lstrip("v")
    out = (
        pattern.replace("{{version}}", version)
        .replace("{{raw}}", value)
        .replace("{{major}}", parsed.group("major"))
        .replace("{{minor}}", parsed.group("minor"))
        .replace("{{patch}}", parsed.group("patch"))
    )
    return out, not prerelease


def _match(attrs: dict[str, str], tag: str) -> tuple[str | None, bool]:
    try:
        found = re.search(attrs.get("pattern", ""), tag)
    except re.error:
        return None, False
    if not found:
        return None, False
    group = attrs.get("group", "0")
    try:
        value = found.group(int(group) if group.isdigit() else group)
    except (IndexError, re.error):
        return None, False
    return value, True


def _template(value: str, event: Event, scope: Scope) -> str:
    branch = event.ref if event.ref_kind == "branch" else ""
    tag = event.ref if event.ref_kind == "tag" else ""
    value = value.replace("{{branch}}", _SANITISE.sub("-", branch)).replace("{{tag}}", tag)
    value = value.replace("{{sha}}", _sha(event)[:7]).replace("{{base_ref}}", "")
    value = re.sub(r"\{\{\s*date\s+'([^']*)'[^}]*\}\}", lambda m: "date-" + _SANITISE.sub("-", m.group(1)), value)
    return value.replace("{{is_default_branch}}", str(branch == scope.default_branch).lower())
