"""Which steps run a semantic-release tool, for real (not as a dry run)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence

from migrator.workflow.model import Job, Step

# Actions that run semantic-release (JS or Python) when used as a step.
RELEASE_ACTIONS = frozenset(
    {
        "cycjimmy/semantic-release-action",
        "codfish/semantic-release-action",
        "python-semantic-release/python-semantic-release",
        "relekang/python-semantic-release",
    }
)
_DRY_RUN_INPUTS = ("dry_run", "dry-run", "no_operation_mode", "noop")
_DRY_RUN_FLAGS = frozenset({"--dry-run", "-d", "--noop", "--print", "--print-tag", "--print-last-released"})
_RUNNERS = frozenset({"npx", "bunx", "pnpx", "uvx"})
_RUNNER_OPTIONS_WITH_VALUE = frozenset({"-p", "--package", "-c", "--call", "--from", "--with"})
# Package-manager options that take a value: `pnpm --filter pkg run release`, `npm -w pkg run release`.
_PM_OPTIONS_WITH_VALUE = frozenset(
    {"--filter", "-F", "--workspace", "-w", "-C", "--dir", "--cwd", "--prefix", "--config", "--registry"}
)
# Task runners that run a package script in every workspace package: `turbo run release`, `lerna run release`.
_TASK_RUNNERS = frozenset({"turbo", "lerna", "nx", "rush", "rushx", "ultra", "wireit"})
# A pseudo script: root package.json depends on semantic-release (or a monorepo wrapper). A task runner's
# task with an assumed release name then runs it, though the workspace package.json files are not known.
DEPENDS_ON_SEMANTIC_RELEASE = "\0depends-on-semantic-release"
_RELEASE_PACKAGES = frozenset(
    {"semantic-release", "semantic-release-monorepo", "multi-semantic-release", "@qiwi/multi-semantic-release",
     "@anolilab/multi-semantic-release", "semantic-release-plus"}
)  # fmt: skip
_PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm", "bun"})
_WRAPPERS = frozenset({"poetry", "uv", "pdm", "hatch", "pipx", "pipenv", "rye"})
_SKIPPED_WORDS = frozenset({"if", "!", "then", "do", "else", "time", "exec", "sudo", "env", "command", "{", "("})
_SEPARATORS = re.compile(r"&&|\|\||;|\||\n|\$\(|`")
_MAX_SCRIPT_DEPTH = 3

# When package.json is not known, a package script with one of these names is taken to be the release tool.
ASSUMED_RELEASE_SCRIPTS = frozenset({"release", "semantic-release", "release:ci"})
_MARKER_TEMPLATE = (
    r"semantic[-_]release|\b(?:yarn|npm|pnpm|bun|turbo|lerna|nx|rush)\b[^\n]*?(?<![\w:-])(?:{names})(?![\w:-])"
)

Scripts = Mapping[str, str] | None  # package.json scripts; None when package.json is not known


def package_scripts(package_json: bytes | None, workspaces: Sequence[bytes] = ()) -> dict[str, str] | None:
    """The `scripts` of a package.json; None if there is no package.json to read.

    Scripts of workspace package.json files are merged in (bodies of one name joined by lines), so
    `yarn workspace X run release` and `turbo run release` resolve to what the packages run.
    """
    if package_json is None:
        return None
    root = _json(package_json)
    out = _scripts_of(root)
    for raw in workspaces:
        for name, body in _scripts_of(_json(raw)).items():
            out[name] = f"{out[name]}\n{body}" if name in out and body not in out[name] else body
    deps = {
        str(name)
        for key in ("dependencies", "devDependencies")
        if isinstance(section := root.get(key), dict)
        for name in section
    }
    if deps & _RELEASE_PACKAGES:
        out[DEPENDS_ON_SEMANTIC_RELEASE] = "semantic-release"
    return out


def _json(raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _scripts_of(data: dict[str, object]) -> dict[str, str]:
    scripts = data.get("scripts")
    if not isinstance(scripts, dict):
        return {}
    return {str(k): str(v) for k, v in scripts.items() if isinstance(v, str)}


def text_marker(scripts: Scripts) -> re.Pattern[str]:
    """A cheap test on raw text: a workflow that does not match cannot hold a release step."""
    names = (
        ASSUMED_RELEASE_SCRIPTS
        if scripts is None
        else {name for name, body in scripts.items() if name[:1] != "\0" and runs_semantic_release(body, scripts)}
    )
    alternatives = "|".join(re.escape(name) for name in sorted(names)) or "(?!)"
    return re.compile(_MARKER_TEMPLATE.format(names=alternatives))


def is_release_step(step: Step, scripts: Scripts) -> bool:
    action = step.action()
    if action in RELEASE_ACTIONS:
        return not any(_truthy(step.input_str(key)) for key in _DRY_RUN_INPUTS)
    return step.run is not None and runs_semantic_release(step.run.value, scripts)


def release_steps(job: Job, scripts: Scripts) -> list[Step]:
    return [step for step in job.steps if is_release_step(step, scripts)]


def runs_semantic_release(script: str, scripts: Scripts, depth: int = 0) -> bool:
    """True when some command of a shell script invokes semantic-release without a dry-run flag."""
    script = script.replace("\\\r\n", " ").replace("\\\n", " ")
    return any(_command_releases(_words(command), scripts, depth) for command in _SEPARATORS.split(script))


def _words(command: str) -> list[str]:
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        words = command.split()
    while words and (words[0] in _SKIPPED_WORDS or _is_assignment(words[0])):
        words = words[1:]
    return words


def _is_assignment(word: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word) is not None


def _command_releases(words: list[str], scripts: Scripts, depth: int) -> bool:
    if not words or _DRY_RUN_FLAGS.intersection(words):
        return False
    program = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    if _is_semantic_release(program):
        return True
    if program in {"python", "python3"} and rest[:2] in (["-m", "semantic_release"], ["-m", "semantic-release"]):
        return True
    if program in _RUNNERS:
        return _is_semantic_release(_first_operand(rest))
    if program in _WRAPPERS and rest[:1] in (["run"], ["exec"]):
        return _command_releases(rest[1:], scripts, depth)
    if program in _PACKAGE_MANAGERS:
        return _package_manager_releases(rest, scripts, depth)
    if program in _TASK_RUNNERS:
        return _task_runner_releases(program, rest, scripts, depth)
    return False


def _task_runner_releases(program: str, rest: list[str], scripts: Scripts, depth: int) -> bool:
    """`turbo run T`, `lerna run T`, `nx run-many -t T`, `nx run p:T`, `rush T`: T in the workspace packages."""
    tasks: list[str] = []
    for index, word in enumerate(rest):
        if word in {"-t", "--target", "--targets"} and index + 1 < len(rest):
            tasks.extend(rest[index + 1].split(","))
        elif word.startswith(("--target=", "--targets=")):
            tasks.extend(word.split("=", 1)[1].split(","))
    operands = [w for w in rest if not w.startswith("-")]
    if not tasks and operands:
        first = operands[1] if operands[0] in {"run", "run-many", "exec"} and len(operands) > 1 else operands[0]
        tasks.append(first.rsplit(":", 1)[-1] if program == "nx" else first)
    return any(_script_releases(task, scripts, depth) for task in tasks)


def _script_releases(target: str, scripts: Scripts, depth: int) -> bool:
    if _is_semantic_release(target):
        return True
    if scripts is None:
        return target in ASSUMED_RELEASE_SCRIPTS
    body = scripts.get(target)
    if body is None:
        return target in ASSUMED_RELEASE_SCRIPTS and DEPENDS_ON_SEMANTIC_RELEASE in scripts
    return depth < _MAX_SCRIPT_DEPTH and runs_semantic_release(body, scripts, depth + 1)


def _package_manager_releases(rest: list[str], scripts: Scripts, depth: int) -> bool:
    rest = _without_options(rest)
    if rest[:1] == ["workspace"] and len(rest) > 2:  # yarn workspace <pkg> [run] <script>
        rest = rest[2:]
    elif rest[:1] == ["workspaces"] and "run" in rest:  # yarn workspaces foreach [-A] run <script>
        rest = rest[rest.index("run") :]
    if not rest:
        return False
    verb = rest[0]
    if verb in {"dlx", "exec", "x"}:
        command = [w for w in _without_options(rest[1:]) if w != "--"]
        return _is_semantic_release(_first_operand(rest[1:])) or _command_releases(command, scripts, depth)
    if verb in {"run", "run-script"}:
        target = _first_operand(rest[1:])
    elif verb.startswith("-") or verb in {"install", "i", "add", "ci", "test", "publish"}:
        return False
    else:
        target = verb  # `yarn semantic-release`, `pnpm release`
    return _script_releases(target, scripts, depth)


def _without_options(words: list[str]) -> list[str]:
    """Leading package-manager options dropped (`pnpm -r --filter pkg run x` -> `run x`)."""
    index = 0
    while index < len(words) and words[index].startswith("-") and words[index] != "--":
        index += 2 if words[index] in _PM_OPTIONS_WITH_VALUE else 1
    return words[index:]


def _first_operand(words: list[str]) -> str:
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
        elif word in _RUNNER_OPTIONS_WITH_VALUE:
            skip_next = True
        elif not word.startswith("-"):
            return word
    return ""


def _is_semantic_release(word: str) -> bool:
    return re.fullmatch(r"(?:@[\w.-]+/)?(?:python-|multi-)?semantic-release(?:@[\w.^~<>=*-]+)?", word) is not None


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().strip("'\"").lower() in {"true", "yes", "on", "1"}


# Publishing a release by other means: the workflow that does it is the natural keeper of images.
_RELEASE_PUBLISHING_ACTIONS = frozenset(
    {
        "softprops/action-gh-release",
        "ncipollo/release-action",
        "actions/create-release",
        "googleapis/release-please-action",
        "google-github-actions/release-please-action",
    }
)
_RELEASE_PUBLISHING_COMMAND = re.compile(r"\bgh\s+release\s+create\b|\bgit\s+push\b[^\n]*\b(?:--tags|tag)\b")


def publishes_releases(job: Job, scripts: Scripts) -> bool:
    """The job creates releases or tags: semantic-release, a release action, `gh release create`."""
    for step in job.steps:
        if is_release_step(step, scripts) or step.action() in _RELEASE_PUBLISHING_ACTIONS:
            return True
        if step.run is not None and _RELEASE_PUBLISHING_COMMAND.search(step.run.value):
            return True
    return False
