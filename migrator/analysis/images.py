"""Which container images a workflow pushes, on which platforms, resolved to comparable names."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from migrator.model import Location
from migrator.workflow import document as d
from migrator.workflow import expressions as ex
from migrator.workflow.model import Job, Step, Workflow

BUILD_PUSH = "docker/build-push-action"
METADATA = "docker/metadata-action"
# Cheap text test: a workflow without any of these pushes no image.
PUSH_MARKER = re.compile(r"docker/build-push-action|docker\s+push|--push|imagetools|manifest\s+push")
# Placeholders for context values; the rules substitute the real names when they know them.
REPOSITORY, OWNER, NAME = (
    "${{ github.repository }}",
    "${{ github.repository_owner }}",
    "${{ github.event.repository.name }}",
)
_CONTEXT = {"github.repository": REPOSITORY, "github.repository_owner": OWNER, "github.event.repository.name": NAME}
_FALLBACK_LITERAL = re.compile(r"\|\|\s*'([^']*)'")


@dataclass(frozen=True)
class Push:
    job_id: str
    images: frozenset[str]
    platforms: frozenset[str] | None  # None when they cannot be known statically
    conditional: bool  # `push:` is an expression, typically "not on pull requests"
    location: Location


@dataclass(frozen=True, eq=False)
class Publisher:
    workflow: Workflow
    pushes: tuple[Push, ...]

    def images(self) -> frozenset[str]:
        return frozenset().union(*(p.images for p in self.pushes)) if self.pushes else frozenset()

    def platforms(self) -> frozenset[str] | None:
        sets = [p.platforms for p in self.pushes]
        if any(s is None for s in sets):
            return None
        return frozenset().union(*(s for s in sets if s is not None))

    def always_conditional(self) -> bool:
        return all(p.conditional for p in self.pushes)


def publisher(workflow: Workflow) -> Publisher:
    pushes = [push for job in workflow.jobs for step in job.steps if (push := _push(workflow, job, step))]
    return Publisher(workflow, tuple(pushes))


def _push(workflow: Workflow, job: Job, step: Step) -> Push | None:
    if step.action() == BUILD_PUSH:
        return _build_push(workflow, job, step)
    if step.run is not None:
        images = _cli_images(workflow, job, step)
        if images:
            where = workflow.location(step.node)
            return Push(job.job_id, images, None, False, where)
    return None


def _build_push(workflow: Workflow, job: Job, step: Step) -> Push | None:
    push = (step.input_str("push") or "").strip()
    outputs = step.input_str("outputs") or ""
    if push.lower() in {"", "false", "'false'"} and "push=true" not in outputs:
        return None
    tags = _split(step.input_str("tags") or "")
    images: set[str] = set()
    for tag in tags:
        metadata = re.search(r"steps\.([\w-]+)\.outputs\.tags", tag)
        if metadata:
            images.update(_metadata_images(workflow, job, metadata.group(1)))
        else:
            images.add(normalise(resolve(tag, workflow, job, step)))
    where = workflow.location(step.node)
    return Push(job.job_id, frozenset(images), _platforms(job, step), "${{" in push, where)


def _metadata_images(workflow: Workflow, job: Job, step_id: str) -> set[str]:
    for step in job.steps:
        if step.step_id == step_id and step.action() == METADATA:
            names = [entry.split(",")[0].removeprefix("name=") for entry in _lines(step.input_str("images"))]
            return {normalise(resolve(name, workflow, job, step)) for name in names if name}
    return {f"<unresolved steps.{step_id}.outputs.tags>"}


def _platforms(job: Job, step: Step) -> frozenset[str] | None:
    raw = step.input_str("platforms")
    if raw is None:
        return frozenset({"<default>"})
    if "matrix." in raw:
        return _matrix_values(job, re.search(r"matrix\.([\w-]+)", raw))
    if "${{" in raw:
        fallback = _FALLBACK_LITERAL.search(raw)
        return frozenset(_split(fallback.group(1))) if fallback else None
    return frozenset(_split(raw))


def _matrix_values(job: Job, match: re.Match[str] | None) -> frozenset[str] | None:
    if match is None:
        return None
    matrix = d.get(d.get(job.node, "strategy"), "matrix")
    values = d.strings(d.get(matrix, match.group(1)))
    values += [v for entry in d.elements(d.get(matrix, "include")) for v in d.strings(d.get(entry, match.group(1)))]
    return frozenset(values) or None


def _cli_images(workflow: Workflow, job: Job, step: Step) -> frozenset[str]:
    assert step.run is not None
    images: set[str] = set()
    script = step.run.value.replace("\\\n", " ")
    for line in re.split(r"&&|;|\n", script):
        resolved = ex.EXPRESSION.sub("EXPR", resolve(line, workflow, job, step).replace(REPOSITORY, "REPOSITORY"))
        try:
            words = [w.replace("REPOSITORY", REPOSITORY) for w in shlex.split(resolved)]
        except ValueError:
            continue
        images.update(_images_in_command(words))
    return frozenset(normalise(i) for i in images)


def _images_in_command(words: list[str]) -> set[str]:
    if len(words) < 3 or words[0] != "docker":
        return set()
    if words[1] == "push" or words[1:3] == ["manifest", "push"] or words[1:3] == ["image", "push"]:
        operands = [w for w in words[2:] if not w.startswith("-") and w not in {"push"}]
        return set(operands[-1:])
    pushing = "--push" in words or words[1:4] == ["buildx", "imagetools", "create"]
    if not pushing:
        return set()
    return {words[i + 1] for i, w in enumerate(words[:-1]) if w in {"-t", "--tag"}}


def resolve(value: str, workflow: Workflow, job: Job, step: Step | None = None) -> str:
    """Substitute `${{ env.X }}` (step, job, workflow env) and well-known github context values."""

    def substitute(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if inner in _CONTEXT:
            return _CONTEXT[inner]
        env_ref = re.fullmatch(r"env\.([\w-]+)", inner)
        if env_ref:
            found = _env_value(env_ref.group(1), workflow, job, step)
            if found is not None:
                return ex.EXPRESSION.sub(substitute, found)
        return match.group(0)

    value = ex.EXPRESSION.sub(substitute, value)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: _shell_var(m, workflow, job, step), value)


def _shell_var(match: re.Match[str], workflow: Workflow, job: Job, step: Step | None) -> str:
    found = _env_value(match.group(1), workflow, job, step)
    return resolve(found, workflow, job, step) if found is not None and "$" not in found[:1] else match.group(0)


def _env_value(name: str, workflow: Workflow, job: Job, step: Step | None) -> str | None:
    for env in (step.env if step else None, job.env, workflow.env):
        value = d.scalar(d.get(env, name))
        if value is not None:
            return value
    return None


def normalise(image: str) -> str:
    """Comparable image name: lowercase, registry explicit, no tag or digest."""
    image = image.strip().strip("'\"").split("@", 1)[0]
    last_slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > last_slash:
        image = image[:colon]
    image = image.lower()
    first = image.split("/", 1)[0]
    if "/" not in image or ("." not in first and ":" not in first and first != "localhost"):
        image = f"docker.io/{image}"
    return image


def _split(raw: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", raw) if part.strip()]


def _lines(raw: str | None) -> list[str]:
    return [line.strip() for line in (raw or "").splitlines() if line.strip()]
