"""Issue 14, item 4: migrator's verdicts against what the Actions model does with the same repository.

For every golden case and every generated sandbox repository, a `fix:` commit is pushed to the default branch of
the repository as it is and of the repository with migrator's fixes, and the release outcomes are compared:
- a safe token-mismatch fix: the release fails before and is made after (on a protected branch, the case the rule
  is about);
- a review token-mismatch fix: the release is never worse after;
- no token-mismatch fix: the repository releases as it did;
- redundant-docker fixes: no image reference is pushed by more than one run after.

Disagreements found and settled while writing this (the model was wrong each time; see its README):
a checkout into a `path` does not configure the workspace root; expression property names ignore case
(`secrets.github_token`); `key:<TAB>value` is valid YAML.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from migrator.checker import Report
from migrator.sandbox.generate import Mix, generate
from tests.sandbox.rules_vs_model import (
    Outcome,
    Pipeline,
    fixed_files,
    model_outcomes,
    read_files,
    rules_report,
    secrets_of,
    settings_of,
)

GOLDEN = Path(__file__).resolve().parents[1] / "rules" / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "before").is_dir())
PROTECTED = {"enforce_admins": False, "contexts": ["ci"]}


def _token_fixes(report: Report) -> set[str]:
    return {fix.safety.value for f in report.findings if f.rule == "token-mismatch" for fix in f.fixes}


def _docker_fixes(report: Report) -> bool:
    return any(f.rule == "redundant-docker" and f.fixes for f in report.findings)


def _release_branch(files: dict[str, bytes], configured: object) -> str:
    if isinstance(configured, str):
        return configured
    texts = b"\n".join(files.values()).decode("utf-8", "replace")
    return "master" if re.search(r"branches:\s*\[\s*master\s*\]", texts) else "main"


def _agree(report: Report, before: Outcome, after: Outcome, *, protected: bool = True, enforced: bool = False) -> None:
    assert before.errors == () and after.errors == ()
    fixes = _token_fixes(report)
    if "safe" in fixes and protected and not enforced:
        assert (before.released, after.released) == (False, True), (before, after)
    elif "safe" in fixes and enforced:
        assert not after.released  # a PAT alone does not get past protection enforced for admins (a plan warning)
    elif fixes:
        assert after.released or not before.released, (before, after)
    else:
        assert after.released == before.released, (before, after)
    if _docker_fixes(report):
        assert after.most_pushers <= 1, after


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, Outcome, Outcome]]:
    pipelines: dict[str, Pipeline] = {}
    reports: dict[str, Report] = {}
    secrets: dict[str, str] = {}
    for case in CASES:
        config = settings_of(case)
        files = read_files(case / "before")
        branch = _release_branch(files, config.get("default_branch"))
        pat = config.get("pat_secret")
        report = rules_report(f"acme/{case.name}", files, default_branch=branch,
                              pat_secret=pat if isinstance(pat, str) else None)
        reports[case.name] = report
        secrets |= secrets_of(files, (pat,) if isinstance(pat, str) else ())
        pipelines[f"{case.name}-before"] = Pipeline(files, branch, PROTECTED)
        pipelines[f"{case.name}-after"] = Pipeline(fixed_files(files, report), branch, PROTECTED)
    outcomes = model_outcomes(tmp_path_factory.mktemp("golden"), pipelines, secrets)
    return {n: (r, outcomes[f"{n}-before"], outcomes[f"{n}-after"]) for n, r in reports.items()}


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_golden_case(golden: dict[str, tuple[Report, Outcome, Outcome]], case: str) -> None:
    report, before, after = golden[case]
    _agree(report, before, after)


def test_the_reference_case_fails_with_the_token_and_races_once_it_is_fixed_alone(
    golden: dict[str, tuple[Report, Outcome, Outcome]],
) -> None:
    _report, before, after = golden["reference"]
    assert before.failures == (".github/workflows/main.yml/release/Release",)
    assert after.released and after.most_pushers == 1


def test_generated_repositories(tmp_path: Path) -> None:
    mix = Mix(release_github_token=0.35, release_pat=0.15, docker_duplicate=0.25, archived=0.0, fork=0.0,
              empty=0.0, protected=0.5)
    root = generate(tmp_path / "generated", repos=24, seed=14, org="gen", mix=mix)
    pipelines: dict[str, Pipeline] = {}
    reports: dict[str, tuple[Report, dict[str, object]]] = {}
    for repo_dir in sorted(p for p in (root / "gen").iterdir() if p.is_dir()):
        meta_path = repo_dir.with_name(repo_dir.name + ".meta.json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        files = read_files(repo_dir)
        branch = str(meta.get("default_branch", "main"))
        report = rules_report(f"gen/{repo_dir.name}", files, default_branch=branch)
        reports[repo_dir.name] = (report, meta)
        protection = meta.get("protection")
        pipelines[f"{repo_dir.name}-before"] = Pipeline(files, branch, protection)  # type: ignore[arg-type]
        pipelines[f"{repo_dir.name}-after"] = Pipeline(fixed_files(files, report), branch, protection)  # type: ignore[arg-type]
    secrets = dict.fromkeys(("RELEASE_PAT", "NPM_TOKEN", "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN"), "tok-admin")
    outcomes = model_outcomes(tmp_path / "seed", pipelines, secrets)
    kinds: set[str] = set()
    for name, (report, meta) in reports.items():
        protection = meta.get("protection")
        protected = isinstance(protection, dict)
        enforced = protected and bool(protection.get("enforce_admins"))  # type: ignore[union-attr]
        before, after = outcomes[f"{name}-before"], outcomes[f"{name}-after"]
        if "safe" in _token_fixes(report) and not protected:
            # Unprotected, GITHUB_TOKEN may push: the release works before the fix too. The rule cannot see that;
            # issue 14 item 2 (a green release run makes the fix `review`) settles it with the run as evidence.
            assert before.released and after.released
            kinds.add("unprotected token fix")
        else:
            _agree(report, before, after, protected=protected, enforced=enforced)
            kinds.add("token fix" if _token_fixes(report) else "docker" if _docker_fixes(report) else "plain")
    assert kinds >= {"token fix", "docker", "plain", "unprotected token fix"}
