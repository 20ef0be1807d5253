"""Which steps run a semantic-release tool, for real (not as a dry run)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping

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
_RUNNERS = frozenset({"npx", "bunx", "pnpx"})
_RUNNER_OPTIONS_WITH_VALUE = frozenset({"-p", "--package", "-c", "--call"})
_PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm", "bun"})
_WRAPPERS = frozenset({"poetry", "uv", "pdm", "hatch", "pipx", "pipenv", "rye"})
_SKIPPED_WORDS = frozenset({"if", "!", "then", "do", "else", "time", "exec", "sudo", "env", "command", "{", "("})
_SEPARATORS = re.compile(r"&&|\|\||;|\||\n|\$\(|`")
_MAX_SCRIPT_DEPTH = 3

# When package.json is not known, a package script with one of these names is taken to be the release tool.
ASSUMED_RELEASE_SCRIPTS = frozenset({"release", "semantic-release", "release:ci"})
_MARKER_TEMPLATE = r"semantic[-_]release|(?:yarn|npm|pnpm|bun)(?:\s+run(?:-script)?)?\s+(?:{names})\b"

Scripts = Mapping[str, str] | None  # package.json scripts; None when package.json is not known


def package_scripts(package_json: bytes | None) -> dict[str, str] | None:
    """The `scripts` of a package.json; None if there is no package.json to read."""
    if package_json is None:
        return None
    try:
        data = json.loads(package_json)
    except (ValueError, UnicodeDecodeError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {str(k): str(v) for k, v in scripts.items() if isinstance(v, str)}


def text_marker(scripts: Scripts) -> re.Pattern[str]:
    """A cheap test on raw text: a workflow that does not match cannot hold a release step."""
    names = (
        ASSUMED_RELEASE_SCRIPTS
        if scripts is None
        else {name for name, body in scripts.items() if runs_semantic_release(body, scripts)}
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
    return False


def _package_manager_releases(rest: list[str], scripts: Scripts, depth: int) -> bool:
    if not rest:
        return False
    verb = rest[0]
    if verb in {"dlx", "exec", "x"}:
        return _is_semantic_release(_first_operand(rest[1:]))
    if verb in {"run", "run-script"}:
        target = _first_operand(rest[1:])
    elif verb.startswith("-") or verb in {"install", "i", "add", "ci", "test", "publish"}:
        return False
    else:
        target = verb  # `yarn semantic-release`, `pnpm release`
    if _is_semantic_release(target):
        return True
    if scripts is None:
        return target in ASSUMED_RELEASE_SCRIPTS
    body = scripts.get(target)
    return body is not None and depth < _MAX_SCRIPT_DEPTH and runs_semantic_release(body, scripts, depth + 1)


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
    return re.fullmatch(r"(?:python-)?semantic-release(?:@[\w.^~<>=*-]+)?", word) is not None


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
