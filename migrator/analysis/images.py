"""Which container images a workflow pushes, on which platforms, resolved to comparable names."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

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
# Env values that name env values (`A: ${{ env.B }}`, `B: $A`) are substituted this deep at most (a loop stops
# there), only when short (an image name, not a script), and at most this many characters per workflow
# (values naming others many times cannot explode).
_MAX_RESOLVE_DEPTH = 8
_MAX_RESOLVED_VALUE = 1_000
_RESOLVE_BUDGET = 100_000


@dataclass
class Budget:
    """Characters env substitution may still add; shared by everything resolved in one workflow."""

    chars: int = _RESOLVE_BUDGET

    def take(self, text: str) -> bool:
        if len(text) > min(self.chars, _MAX_RESOLVED_VALUE):
            return False
        self.chars -= len(text)
        return True


@dataclass(frozen=True)
class RefSpec:
    """Where one push names its image references; evaluated per event by analysis.tags.

    kind "meta": the tags output of a docker/metadata-action step (`step`, None when it is missing);
    kind "ref": one written reference `image[:tag]` (env already substituted, expressions kept);
    kind "all-tags": `docker push --all-tags image`: every tag the job gave that image.
    """

    kind: str
    text: str = ""
    step: Step | None = field(default=None, repr=False)
    # the job holding a metadata step (another job's, through `needs.<job>.outputs`)
    job: Job | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Push:
    job_id: str
    images: frozenset[str]  # names known without an event; unresolved names are left out
    platforms: frozenset[str] | None  # None when they cannot be known statically
    conditional: bool  # `push:` is an expression, typically "not on pull requests"
    location: Location
    specs: tuple[RefSpec, ...] = field(default=(), repr=False)
    push_expr: str | None = None  # the build-push `push:` value, evaluated per event
    step_if: str | None = None
    job: Job | None = field(default=None, repr=False)  # a job may hold thousands of steps: never in a repr
    unresolved: bool = False  # some name could not be resolved: it is unknown, and never matches


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
    pushes: list[Push] = []
    budget = Budget()
    for job in workflow.jobs:
        metadata = _metadata_steps(job)  # indexed once: a job may hold thousands of steps (aliases included)
        pushes.extend(push for step in job.steps if (push := _push(workflow, job, step, metadata, budget)))
    return Publisher(workflow, tuple(pushes))


def _metadata_steps(job: Job) -> dict[str, Step]:
    """The job's docker/metadata-action steps by id; the first one wins, as in a search from the top."""
    found: dict[str, Step] = {}
    for step in job.steps:
        if step.step_id and step.action() == METADATA:
            found.setdefault(step.step_id, step)
    return found


def _push(workflow: Workflow, job: Job, step: Step, metadata: dict[str, Step], budget: Budget) -> Push | None:
    if step.action() == BUILD_PUSH:
        return _build_push(workflow, job, step, metadata, budget)
    if step.run is not None:
        specs = _cli_specs(workflow, job, step, budget)
        if specs:
            names = [image_name(s.text) for s in specs]
            where = workflow.location(step.node)
            images = frozenset(n for n in names if n)
            platforms = None if "--platform" in step.run.value else frozenset({"<default>"})
            return Push(
                job.job_id, images, platforms, False, where, tuple(specs), None,
                d.scalar(d.get(step.node, "if")), job, None in names,
            )  # fmt: skip
    return None


def _build_push(workflow: Workflow, job: Job, step: Step, metadata: dict[str, Step], budget: Budget) -> Push | None:
    push = (step.input_str("push") or "").strip()
    outputs = step.input_str("outputs") or ""
    if push.lower() in {"", "false", "'false'"} and "push=true" not in outputs:
        return None
    tags = _split(step.input_str("tags") or "")
    if not tags and "push-by-digest=true" not in outputs:
        tags = re.findall(r"\bname=([^,\s\"']+)", outputs)  # `outputs: type=image,name=IMAGE,push=true`
    images: set[str] = set()
    specs: list[RefSpec] = []
    unresolved = False
    for tag in tags:
        meta, owner = _metadata_source(workflow, job, tag, metadata)
        if meta is not None or re.search(r"outputs\.tags\b|needs\.[\w-]+\.outputs\.", tag):
            specs.append(RefSpec("meta", step=meta, job=owner))
            names = metadata_images(workflow, owner, meta, budget) if meta else []
            unresolved |= meta is None or len(names) < len(_lines(meta.input_str("images")))
            images.update(names)
        else:
            text = resolve(tag, workflow, job, step, budget=budget)
            specs.append(RefSpec("ref", text))
            name = image_name(text)
            unresolved |= name is None
            images.update([name] if name else [])
    where = workflow.location(step.node)
    return Push(
        job.job_id, frozenset(images), _platforms(job, step), "${{" in push, where,
        tuple(specs), push or None, d.scalar(d.get(step.node, "if")), job, unresolved,
    )  # fmt: skip


def _metadata_source(workflow: Workflow, job: Job, tag: str, metadata: dict[str, Step]) -> tuple[Step | None, Job]:
    """The metadata-action step whose `tags` output this value names, and its job.

    `steps.meta.outputs.tags` is in the same job; `needs.build.outputs.tags` goes through the output
    that job `build` maps to one of its own metadata steps.
    """
    own = re.search(r"steps\.([\w-]+)\.outputs\.tags\b", tag)
    if own:
        return metadata.get(own.group(1)), job
    needed = re.search(r"needs\.([\w-]+)\.outputs\.([\w-]+)", tag)
    if needed is None:
        return None, job
    other = next((j for j in workflow.jobs if j.job_id == needed.group(1)), None)
    value = d.scalar(d.get(d.get(other.node, "outputs"), needed.group(2))) if other else None
    inner = re.search(r"steps\.([\w-]+)\.outputs\.tags\b", value or "")
    if other is None or inner is None:
        return None, job
    return _metadata_steps(other).get(inner.group(1)), other


def metadata_images(workflow: Workflow, job: Job, step: Step, budget: Budget | None = None) -> list[str]:
    """The image names a metadata-action step lists, resolved; names that stay unresolved are left out."""
    found = []
    for entry in _lines(step.input_str("images")):
        name = entry.split(",")[0].strip().removeprefix("name=")
        resolved = image_name(resolve(name, workflow, job, step, budget=budget)) if name else None
        if resolved:
            found.append(resolved)
    return found


def image_name(reference: str) -> str | None:
    """The normalised image name of `image[:tag]`, or None while it holds anything unresolved.

    An expression, a shell variable or a secret cannot be known from the files; such a name is
    unknown and must never match another one. Context placeholders (REPOSITORY...) stay: the
    rules substitute the repository's own name.
    """
    name = _strip_tag(reference.strip().strip("'\""))
    for placeholder in (REPOSITORY, OWNER, NAME):
        name = name.replace(placeholder, "")
    if not name or "$" in name or "{{" in name or "}}" in name or re.search(r"\s", name):
        return None
    return normalise(_strip_tag(reference.strip().strip("'\"")))


def _strip_tag(reference: str) -> str:
    reference = reference.split("@", 1)[0]
    last_slash = reference.rfind("/")
    colon = reference.rfind(":")
    return reference[:colon] if colon > last_slash else reference


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


_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_]\w*)=(.*)$")


def _cli_specs(workflow: Workflow, job: Job, step: Step, budget: Budget) -> list[RefSpec]:
    """References pushed by docker commands of a run script, with the script's own assignments applied.

    `NAME=value` lines earlier in the script are substituted; a value computed at run time (`$(...)`,
    a loop variable) stays a shell variable, so the name is unknown.
    """
    assert step.run is not None
    specs: list[RefSpec] = []
    shell: dict[str, str] = {}
    built: list[str] = []
    script = step.run.value.replace("\\\n", " ")
    if "docker" not in script:
        return []
    for raw_line in re.split(r"&&|;|\n", script):
        line = raw_line.strip()
        assignment = _ASSIGNMENT.match(line)
        if assignment and " " not in assignment.group(2).strip().strip("'\""):
            value = assignment.group(2).strip().strip("'\"")
            shell[assignment.group(1)] = "" if "$(" in value or "`" in value else value
            continue
        if "docker" not in line:
            continue  # cannot be a docker command; shlex is slow on long scripts
        resolved = _shell_substitute(line, shell)
        resolved = resolve(resolved, workflow, job, step, budget=budget)
        words = _shell_words(resolved)
        if words is None:
            continue
        built.extend(_built_refs(words))
        specs.extend(_pushed(words, built))
    return specs


def _shell_substitute(line: str, shell: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = shell.get(match.group(1))
        return value if value else match.group(0)

    return re.sub(r"\$\{?(\w+)\}?", substitute, line)


def _shell_words(line: str) -> list[str] | None:
    """shlex words, with every `${{ ... }}` kept whole (shlex would split or unquote it)."""
    kept: list[str] = []

    def hide(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    try:
        words = shlex.split(ex.EXPRESSION.sub(hide, line))
    except ValueError:
        return None
    restored = [re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], w) for w in words]
    while restored and restored[0] in _SHELL_PREFIXES:
        restored = restored[1:]
    return restored


_SHELL_PREFIXES = frozenset({"do", "then", "else", "sudo", "time", "exec", "!", "{", "(", "if", "while"})


def _built_refs(words: list[str]) -> list[str]:
    """References a command gives local images: `docker build -t X`, `docker tag SRC X`."""
    if len(words) < 3 or words[0] != "docker":
        return []
    if words[1] == "tag" or words[1:3] == ["image", "tag"]:
        operands = [w for w in words[2:] if not w.startswith("-") and w != "tag"]
        return operands[-1:]
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in {"-t", "--tag"}]


def _pushed(words: list[str], built: list[str]) -> list[RefSpec]:
    if len(words) < 3 or words[0] != "docker":
        return []
    if words[1] == "push" or words[1:3] in (["manifest", "push"], ["image", "push"]):
        operands = [w for w in words[2:] if not w.startswith("-") and w not in {"push"}]
        if not operands:
            return []
        if {"-a", "--all-tags"} & set(words):
            name = image_name(operands[-1])
            return [RefSpec("ref", ref) for ref in built if name and image_name(ref) == name] or [
                RefSpec("ref", operands[-1] + ":$ALL_TAGS")
            ]
        return [RefSpec("ref", operands[-1])]
    pushing = "--push" in words or words[1:4] == ["buildx", "imagetools", "create"]
    if not pushing:
        return []
    return [RefSpec("ref", words[i + 1]) for i, w in enumerate(words[:-1]) if w in {"-t", "--tag"}]


def resolve(
    value: str, workflow: Workflow, job: Job, step: Step | None = None, *, budget: Budget | None = None, depth: int = 0
) -> str:
    """Substitute `${{ env.X }}` and `$X` (step, job, workflow env) and well-known github context values.

    A self-referencing env value stops being substituted after _MAX_RESOLVE_DEPTH levels, and nothing more is
    substituted once the budget is spent: what is left stays as written, unresolved.
    """
    spend = budget if budget is not None else Budget()

    def expressions(text: str, level: int) -> str:
        def substitute(match: re.Match[str]) -> str:
            inner = match.group(1).strip()
            if inner in _CONTEXT:
                return _CONTEXT[inner]
            env_ref = re.fullmatch(r"env\.([\w-]+)", inner)
            if env_ref and level < _MAX_RESOLVE_DEPTH:
                found = _env_value(env_ref.group(1), workflow, job, step)
                if found is not None and spend.take(found):
                    return expressions(found, level + 1)
            return match.group(0)

        return ex.EXPRESSION.sub(substitute, text)

    def shell_var(match: re.Match[str]) -> str:
        found = _env_value(match.group(1), workflow, job, step)
        if found is None or "$" in found[:1] or depth >= _MAX_RESOLVE_DEPTH or not spend.take(found):
            return match.group(0)
        return resolve(found, workflow, job, step, budget=spend, depth=depth + 1)

    return re.sub(r"\$\{?(\w+)\}?", shell_var, expressions(value, depth))


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
