"""Workflow files as GitHub reads them: `on:`, `jobs:`, `needs:`, `if:`, `steps:`, `env:` and `permissions:`.

Parsed here with ruamel.yaml into plain values, independently of migrator's own workflow parser (the model must
be able to prove that one wrong). Only files directly in `.github/workflows/` ending `.yml`/`.yaml` are workflows
(GitHub docs, "Workflow syntax": "Workflow files ... must be stored in the `.github/workflows` directory").
A file that is not valid YAML, or has no `on:` or `jobs:`, becomes a workflow that cannot start, as on GitHub,
where such a file shows a failed "workflow file issue" and runs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

WORKFLOWS_DIR = ".github/workflows/"
MAX_WORKFLOW_BYTES = 1_000_000
MAX_FLOW_DEPTH = 64


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    id: str | None = None
    uses: str | None = None
    run: str | None = None
    with_: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    if_: str | None = None

    @property
    def action(self) -> str:
        """`owner/name` of a `uses:` step, without the version (`actions/checkout@v4` -> `actions/checkout`)."""
        return (self.uses or "").split("@", 1)[0].lower()


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    needs: tuple[str, ...] = ()
    if_: str | None = None
    steps: tuple[Step, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    permissions: Mapping[str, str] | str | None = None


@dataclass(frozen=True)
class Workflow:
    path: str
    name: str
    on: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # event -> its filters
    jobs: tuple[Job, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    permissions: Mapping[str, str] | str | None = None
    valid: bool = True

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def is_workflow_file(path: str) -> bool:
    """GitHub runs only files directly inside `.github/workflows/` (not in sub-folders), `.yml` or `.yaml`."""
    if not path.startswith(WORKFLOWS_DIR):
        return False
    name = path[len(WORKFLOWS_DIR) :]
    return "/" not in name and name.endswith((".yml", ".yaml"))


def parse_workflow(path: str, data: bytes) -> Workflow:
    document = _load(data)
    if not isinstance(document, dict):
        return Workflow(path=path, name=path, valid=False)
    # YAML 1.1 reads a bare `on:` key as the boolean True; GitHub reads it as `on`.
    triggers = document.get("on", document.get(True))
    jobs = document.get("jobs")
    if triggers is None or not isinstance(jobs, dict):
        return Workflow(path=path, name=_scalar(document.get("name")) or path, valid=False)
    return Workflow(
        path=path,
        name=_scalar(document.get("name")) or path,
        on=_triggers(triggers),
        jobs=tuple(_job(_scalar(key), value) for key, value in jobs.items() if isinstance(value, dict)),
        env=_strings(document.get("env")),
        permissions=_permissions(document.get("permissions")),
    )


def _too_deep(data: bytes) -> bool:
    """Flow collections nested deeper than MAX_FLOW_DEPTH (counting brackets, quotes aside): no workflow is,
    and ruamel would spend seconds on 100,000 of them before giving up."""
    if data.count(b"[") + data.count(b"{") <= MAX_FLOW_DEPTH:
        return False
    depth = 0
    for byte in data:
        if byte in b"[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return True
        elif byte in b"]}":
            depth = max(depth - 1, 0)
    return False


_DEEP_BLOCK = re.compile(rb"^( {%d,}|(?:- ){%d,})" % (8 * MAX_FLOW_DEPTH, MAX_FLOW_DEPTH), re.M)


def _too_deep_block(data: bytes) -> bool:
    """Block collections nested past MAX_FLOW_DEPTH levels: an indentation of 8 spaces a level, or as many
    compact `- ` entries on one line. No workflow comes close, and ruamel takes seconds on 100,000 levels."""
    return _DEEP_BLOCK.search(data) is not None


def _load(data: bytes) -> Any:
    if len(data) > MAX_WORKFLOW_BYTES or b"\0" in data or _too_deep(data) or _too_deep_block(data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return _yaml(text)
    except YAMLError:
        # YAML 1.2 allows a tab as in-line white space (`key:<TAB>value`, spec 6.1 "s-white"), only not in
        # indentation; ruamel's scanner refuses some of those, so read them as the space they stand for.
        if re.search(r"^\t", text, re.M) or "\t" not in text:
            return None
        try:
            return _yaml(text.replace("\t", " "))
        except (YAMLError, RecursionError, ValueError):
            return None
    except (RecursionError, ValueError):
        return None


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def _triggers(raw: Any) -> dict[str, dict[str, Any]]:
    """`on: push`, `on: [push, release]` and `on: {push: {branches: [...]}}` all become event -> filters."""
    if isinstance(raw, str):
        return {raw: {}}
    if isinstance(raw, list):
        return {_scalar(item): {} for item in raw}
    if isinstance(raw, dict):
        return {_scalar(key): dict(value) if isinstance(value, dict) else {} for key, value in raw.items()}
    return {}


def _job(job_id: str, raw: dict[Any, Any]) -> Job:
    needs = raw.get("needs") or ()
    steps = raw.get("steps") if isinstance(raw.get("steps"), list) else []
    return Job(
        id=job_id,
        name=_scalar(raw.get("name")) or job_id,
        needs=(needs,) if isinstance(needs, str) else tuple(_scalar(n) for n in needs if isinstance(needs, list)),
        if_=_condition(raw.get("if")),
        steps=tuple(_step(index, item) for index, item in enumerate(steps or []) if isinstance(item, dict)),
        env=_strings(raw.get("env")),
        outputs=_strings(raw.get("outputs")),
        permissions=_permissions(raw.get("permissions")),
    )


def _step(index: int, raw: dict[Any, Any]) -> Step:
    uses, run = _scalar(raw.get("uses")) or None, _scalar(raw.get("run")) or None
    first_line = run.strip().splitlines()[0] if run and run.strip() else ""
    name = _scalar(raw.get("name")) or (f"Run {uses}" if uses else f"Run {first_line}" if run else "")
    return Step(
        index=index,
        name=name,
        id=_scalar(raw.get("id")) or None,
        uses=uses,
        run=run,
        with_=_strings(raw.get("with")),
        env=_strings(raw.get("env")),
        if_=_condition(raw.get("if")),
    )


def _condition(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return _scalar(raw)


def _strings(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {_scalar(k): _scalar(v) for k, v in raw.items()}


def _scalar(value: Any) -> str:
    """A scalar as the runner sees it; a mapping or list (which GitHub refuses here) as '' (never str() of an
    alias-shared structure, which could be exponentially large)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (str, int, float)) else ""


def _permissions(raw: Any) -> Mapping[str, str] | str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        return {_scalar(k): _scalar(v) for k, v in raw.items()}
    return None
