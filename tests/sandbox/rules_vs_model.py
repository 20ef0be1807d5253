"""Shared by the rules-against-the-model tests: run a repository's release pipeline in the sandbox, once as it is
and once with migrator's fixes, and say what happened. Only this test code imports the rules; the sandbox
never does."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from migrator.analysis.context import RuleSettings
from migrator.checker import Report, apply_fixes, check_snapshot
from migrator.model import RepoSnapshot
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.support import call

PAT = "tok-admin"
SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Outcome:
    released: bool  # a GitHub release exists after a `fix:` push
    failures: tuple[str, ...]  # workflow/job/step of every failed step
    most_pushers: int  # the most runs that pushed one image reference (2 or more is a race)
    errors: tuple[str, ...]  # gaps the model hit


def read_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and not p.is_symlink()}


def fixed_files(files: Mapping[str, bytes], report: Report) -> dict[str, bytes]:
    texts = {path: data.decode("utf-8", "surrogateescape") for path, data in files.items()}
    changes, _collided = apply_fixes(texts, report.fixes(include_review=True))
    after = dict(files)
    for change in changes:
        if change.after is None:
            after.pop(change.path, None)
        else:
            after[change.path] = change.after.encode("utf-8", "surrogateescape")
    return after


def rules_report(name: str, files: Mapping[str, bytes], *, default_branch: str = "main",
                 pat_secret: str | None = None) -> Report:
    snapshot = RepoSnapshot.of(name, files, default_branch=default_branch)
    return check_snapshot(replace(snapshot), RuleSettings(pat_secret=pat_secret))


def secrets_of(files: Mapping[str, bytes], extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Every secret the workflows name holds the release PAT (a full-power token of release-bot)."""
    names = {m for data in files.values() for m in SECRET.findall(data.decode("utf-8", "replace"))}
    return {name: PAT for name in sorted(names | set(extra)) if name != "GITHUB_TOKEN"}


@dataclass(frozen=True)
class Pipeline:
    files: Mapping[str, bytes]
    default_branch: str = "main"
    protection: Mapping[str, object] | None = None


def model_outcomes(root: Path, pipelines: Mapping[str, Pipeline], secrets: Mapping[str, str]) -> dict[str, Outcome]:
    """Each pipeline as a repository of one sandbox, a `fix:` commit pushed to its default branch, and what
    the Actions model made of it."""
    metas: dict[str, dict[str, object]] = {}
    for name, pipeline in pipelines.items():
        metas[f"acme/{name}"] = {"default_branch": pipeline.default_branch}
        if pipeline.protection is not None:
            metas[f"acme/{name}"]["protection"] = dict(pipeline.protection)
    seed = write_seed(root, {"acme": {name: dict(p.files) for name, p in pipelines.items()}}, repo_meta=metas,
                      org_meta={"acme": {"secrets": dict(secrets),
                                         "tokens": {PAT: {"power": "full", "login": "release-bot"}}}})
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        for name, pipeline in pipelines.items():
            status, _headers, body = call(sandbox, "POST", f"/_sandbox/repos/acme/{name}/commit", token=None,
                                          body={"branch": pipeline.default_branch, "message": "fix: a bug",
                                                "files": {"src/fix.txt": "fixed\n"}})
            assert status == 201, body
        errors = tuple(sandbox.actions_errors())
        return {name: _outcome(sandbox, name, errors) for name in pipelines}


def _outcome(sandbox: Sandbox, name: str, errors: tuple[str, ...]) -> Outcome:
    repo = sandbox.store.repo("acme", name)
    assert repo is not None
    failures = tuple(
        f"{run.path}/{job.name}/{step.name}"
        for run in repo.runs.values() for job in run.jobs for step in job.steps if step.conclusion == "failure"
    )
    pushers: dict[str, set[int]] = {}
    for pushed in sandbox.registry():
        if pushed.repository == repo.full_name:
            pushers.setdefault(f"{pushed.image}:{pushed.tag}", set()).add(pushed.run_id)
    mine = tuple(e for e in errors if e.startswith(repo.full_name))
    return Outcome(bool(repo.releases), failures, max((len(r) for r in pushers.values()), default=0), mine)


def settings_of(case: Path) -> dict[str, object]:
    path = case / "settings.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}
