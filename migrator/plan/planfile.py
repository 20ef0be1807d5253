"""Writing plans atomically, and reading them back only after every check passes.

Reading validates before anything touches the network: size, UTF-8, JSON, the
format version, the JSON Schema, the paths, and the digest. Each failure is one
line saying what to do next.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from migrator.errors import InputError
from migrator.model import WORKFLOWS_DIR, git_blob_sha, is_workflow_path
from migrator.plan.model import FORMAT_VERSION, Plan, digest_of, from_dict, to_dict
from migrator.refnames import BRANCH_PREFIX, campaign_problem, plan_id_problem, ref_problem, repo_name_problem
from migrator.workflow.edit import unified_diff

MAX_PLAN_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 64  # a plan written by `migrator plan` nests about 10 levels deep
MAX_FILE_CHARS = 1_000_000
# Besides workflows, a plan may edit only the README files that carry workflow badges.
_COMPANIONS = frozenset({"README.md", ".github/README.md", "docs/README.md"})


@dataclass(frozen=True)
class LoadedPlan:
    plan: Plan
    path: Path
    edits: tuple[str, ...]  # reviewer edits of `enabled` switches, for the summary


def default_path(plan: Plan, directory: Path = Path("plans"), *, suffix: str = "") -> Path:
    return directory / f"{plan.plan_id}{suffix}.json"


def write_plan(plan: Plan, path: Path, *, lock_for: str | None = None) -> Path:
    """Write atomically: an interrupted run leaves no half-written plan behind. With `lock_for` (the command),
    refuse while another process holds the plan (an apply or rollback of it), as `migrator.apply.lock` says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if lock_for is not None:
        from migrator.apply.lock import holding_plan

        with holding_plan(path, what=lock_for):
            return write_plan(plan, path)
    data = json.dumps(to_dict(plan), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def read_plan(path: Path) -> LoadedPlan:
    data = _load_json(path)
    version = data.get("format_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise InputError(
            f"{path} has plan format {version}, newer than this migrator understands ({FORMAT_VERSION}); "
            "upgrade migrator"
        )
    _validate_schema(path, data)
    _validate_paths(path, data)
    if data["digest"] != digest_of(data):
        raise InputError(
            f"{path} was changed beyond its `enabled` switches (digest mismatch); "
            "re-run `migrator plan` to get a fresh plan"
        )
    _validate_consistency(path, data)
    return LoadedPlan(from_dict(data), path, tuple(_edits(data)))


def _load_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except OSError:
        raise InputError(f"cannot read plan {path}: no such file; create one with `migrator plan --org ORG`") from None
    if size > MAX_PLAN_BYTES:
        raise InputError(f"plan {path} is {size:,} bytes, over the {MAX_PLAN_BYTES:,}-byte limit")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"plan {path} is not valid UTF-8 (byte {error.start}); re-run `migrator plan`") from None
    try:
        data = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except DuplicateKey as duplicate:
        raise InputError(
            f"plan {path} repeats the key {duplicate.key!r} in one object (a reader would see only one of them); "
            "re-run `migrator plan`"
        ) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"plan {path} is not valid JSON ({error.msg}, line {error.lineno}); re-run `migrator plan`"
        ) from None
    except RecursionError:
        raise _too_deep(path) from None
    if _depth(data) > MAX_DEPTH:
        raise _too_deep(path)
    return data


def _too_deep(path: Path) -> InputError:
    return InputError(
        f"plan {path} is nested more than {MAX_DEPTH} levels deep, too deep to be a plan; re-run `migrator plan`"
    )


def _depth(value: Any) -> int:
    """How deeply JSON nests, without recursion (the checks after this one may recurse)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON readers disagree on which of two equal keys wins; a reviewer could see one and apply the other."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files("migrator.data").joinpath("plan.schema.json").read_text())
    return schema


def _validate_schema(path: Path, data: Any) -> None:
    import jsonschema  # slow to import, and only plan readers need it

    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise InputError(f"plan {path} does not match the plan schema at {where}: {error.message[:200]}")


def _validate_paths(path: Path, data: dict[str, Any]) -> None:
    for repo in data["repos"]:
        for change in repo["changes"]:
            problem = path_problem(change["path"])
            if problem:
                raise InputError(f"plan {path}: {repo['name']} change {change['path']!r} {problem}; refusing the plan")
            for key in ("before", "after", "after_with_review"):
                if isinstance(change[key], str) and len(change[key]) > MAX_FILE_CHARS:
                    raise InputError(f"plan {path}: {repo['name']} {change['path']} content is oversized; refusing")


def _validate_consistency(path: Path, data: dict[str, Any]) -> None:
    """What the schema cannot say. The digest only proves the plan is what some planner wrote, so a plan
    rewritten with a recomputed digest must still be one that `migrator plan` could have written."""
    org = data["org"].lower()
    problem = plan_id_problem(data["plan_id"])
    if problem is not None:
        raise InputError(f"plan {path}: plan id {data['plan_id']!r} {problem}; refusing the plan")
    campaign = data.get("campaign")
    if campaign is not None and (problem := campaign_problem(campaign)) is not None:
        raise InputError(f"plan {path}: campaign {campaign!r} {problem}; refusing the plan")
    branch = BRANCH_PREFIX + (campaign or data["plan_id"])
    seen: set[str] = set()
    for retired in data.get("retired", ()):
        problem = _retired_problem(retired, org, branch)
        if problem is not None:
            raise InputError(f"plan {path}: {retired['name']} {problem}; refusing the plan, re-run `migrator plan`")
    for repo in data["repos"]:
        name = repo["name"]
        problem = _repo_problem(repo, org, branch, seen)
        if problem is None:
            problem = next(filter(None, map(_change_problem, repo["changes"])), None)
        if problem is not None:
            raise InputError(f"plan {path}: {name} {problem}; refusing the plan, re-run `migrator plan`")
        seen.add(name.lower())


def _repo_problem(repo: dict[str, Any], org: str, branch: str, seen: set[str]) -> str | None:
    named = repo_name_problem(repo["name"])
    if named is not None:
        return named
    base = ref_problem(repo["base_branch"])
    if base is not None:
        return f"names base branch {repo['base_branch']!r}, which {base}"
    if repo["name"].split("/", 1)[0].lower() != org:
        return "is not a repository of the plan's org"
    if repo["name"].lower() in seen:
        return "appears twice"
    if repo["branch"] != branch:
        return f"names branch {repo['branch']!r}, not the plan's {branch!r}"
    paths = [change["path"] for change in repo["changes"]]
    if len(set(paths)) != len(paths):
        return "changes one path twice"
    return None


def _retired_problem(retired: dict[str, Any], org: str, branch: str) -> str | None:
    named = repo_name_problem(retired["name"])
    if named is not None:
        return named
    if retired["name"].split("/", 1)[0].lower() != org:
        return "is not a repository of the plan's org"
    if retired["branch"] != branch:
        return f"names branch {retired['branch']!r}, not the plan's {branch!r}"
    return None


def _change_problem(change: dict[str, Any]) -> str | None:
    where = change["path"]
    if (change["action"] == "delete") != (change["after"] is None):
        return f"{where}: action {change['action']!r} does not match its content"
    try:
        before = change["before"].encode("utf-8", "surrogateescape")  # as the planner decoded it
    except UnicodeEncodeError:
        return f"{where}: the recorded content is not text any file could hold"
    if git_blob_sha(before) != change["blob_before"]:
        return f"{where}: the recorded content is not the blob {change['blob_before'][:10]} it claims to be"
    if change["diff"] != unified_diff(where, change["before"], change["after"]):
        return f"{where}: the diff reviewers read is not the change apply would write"
    return None


def path_problem(path: str) -> str | None:
    if "\0" in path:
        return "contains a NUL byte"
    if path.startswith("/") or "\\" in path:
        return "is absolute or not a POSIX path"
    if ".." in path.split("/"):
        return "climbs out with `..`"
    if not (is_workflow_path(path) or path in _COMPANIONS):
        return f"is outside {WORKFLOWS_DIR} (only README badges may be edited elsewhere)"
    return None


def _edits(data: dict[str, Any]) -> list[str]:
    out = []
    for repo in data["repos"]:
        if repo["enabled"] != repo["default_enabled"]:
            out.append(f"{repo['name']}: {'enabled' if repo['enabled'] else 'disabled'} by a reviewer")
        for change in repo["changes"]:
            if change["enabled"] != change["default_enabled"]:
                state = "enabled" if change["enabled"] else "disabled"
                out.append(f"{repo['name']} {change['path']}: {state} by a reviewer")
    return out
