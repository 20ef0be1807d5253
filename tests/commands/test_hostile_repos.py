"""Hostile repositories end to end: `migrator check` on checkouts and `migrator plan` against the sandbox.

One repository per kind of hostile content (alias bombs, deep nesting, a 50 MB workflow, binary files,
invalid UTF-8, symbolic links), each next to an ordinary release workflow, plus an ordinary repository.
Each hostile file must give a one-line warning or notice, and everything around it must still be
checked or planned. Bounds are structural (bytes read, requests made) or tracemalloc peaks; nothing is
timed, and a hang guard turns a regression into a failure instead of a stuck suite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.checker import UNREADABLE_RULE, Report, check_snapshot
from migrator.cli import main
from migrator.local import load_checkout
from migrator.model import WORKFLOWS_DIR, RepoSnapshot, git_blob_sha
from migrator.sandbox.generate import HOSTILE_KINDS, RELEASE_WITH_GITHUB_TOKEN, generate_hostile, hostile_files
from migrator.sandbox.git import SYMLINK_MODE
from migrator.sandbox.testing import Sandbox, running_sandbox
from migrator.workflow.document import MAX_NESTING, MAX_WORKFLOW_BYTES
from tests.bounds import MEMORY_BOUND, guarded, peak_memory

ORG = "acme"
ADMIN = "tok-admin-0123456789"
REPOS = ["ordinary", *(f"hostile-{kind}" for kind in HOSTILE_KINDS)]

SYMLINK = "a symbolic link; not followed"
DEEP = f"YAML nested deeper than {MAX_NESTING} levels"
# Per repository: workflow file -> what its warning says, for `check` on a checkout.
CHECK_WARNINGS: dict[str, dict[str, str]] = {
    "ordinary": {},
    "hostile-alias-bomb": {"bomb.yml": "alias bomb", "cycle.yml": "inside its own anchor"},
    "hostile-deep-flow": {"deep-seq.yml": DEEP, "deep-map.yml": DEEP},
    "hostile-deep-block": {"deep-seq.yml": DEEP, "deep-map.yml": DEEP},
    "hostile-huge": {"huge.yml": "over the 1,000,000-byte limit"},
    "hostile-binary": {"nul.yml": "binary", "image.yml": "binary"},
    "hostile-invalid-utf8": {"latin1.yml": "not valid UTF-8", "late-invalid.yml": "not valid UTF-8 at byte 10"},
    "hostile-symlinks": dict.fromkeys(["passwd.yml", "outside.yml", "self.yml", "dangling.yaml"], SYMLINK),
    "hostile-symlinked-folders": {"": SYMLINK},  # .github/workflows itself
}
# The same for `plan`: GitHub describes some files before migrator ever sees their bytes.
PLAN_WARNINGS: dict[str, dict[str, str]] = {
    **CHECK_WARNINGS,
    "hostile-huge": {"huge.yml": r"too large \(52428\d\d\d bytes; the limit is 1000000\)"},
    "hostile-invalid-utf8": {"latin1.yml": "binary|not valid UTF-8", "late-invalid.yml": "not valid UTF-8 at byte 10"},
    "hostile-symlinked-folders": {"": "symbolic link"},  # the folder itself: see the test below
}


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = generate_hostile(tmp_path_factory.mktemp("seed"), org=ORG, tokens={ADMIN: "full"})
    # Where `.github/workflows/outside.yml -> ../../../outside.yml` leads: a workflow that would tempt a follower.
    (root / ORG / "outside.yml").write_text(RELEASE_WITH_GITHUB_TOKEN.format(branch="main"), encoding="utf-8")
    return root


def matches(found: dict[str, str], expected: dict[str, str]) -> bool:
    wanted = {WORKFLOWS_DIR + name: pattern for name, pattern in expected.items()}
    return set(found) == set(wanted) and all(re.search(wanted[path], found[path]) for path in found)


# --- check on a checkout -----------------------------------------------------------------------


@pytest.mark.parametrize("repo", REPOS)
def test_check_warns_about_each_hostile_file_and_checks_the_rest(seed: Path, repo: str) -> None:
    def check() -> tuple[RepoSnapshot, Report]:
        snapshot = load_checkout(seed / ORG / repo)
        return snapshot, check_snapshot(snapshot)

    with peak_memory() as peak:
        snapshot, report = guarded(check)
    assert peak[0] < MEMORY_BOUND
    warnings = {f.location.path: f.message for f in report.findings if f.rule == UNREADABLE_RULE}
    assert matches(warnings, CHECK_WARNINGS[repo]), warnings
    assert all(m.startswith("not analysed: ") and "\n" not in m for m in warnings.values())
    fixed = {f.location.path for f in report.findings if f.rule == "token-mismatch"}
    assert fixed == (set() if repo == "hostile-symlinked-folders" else {".github/workflows/release.yml"})
    if repo == "hostile-huge":  # bytes read are capped: enough to know it is too large, no more
        assert len(snapshot.files[".github/workflows/huge.yml"].content) == MAX_WORKFLOW_BYTES + 1


def test_check_never_reads_through_a_symbolic_link(seed: Path) -> None:
    """Links to /etc/passwd, to /, outside the checkout, to themselves: none is followed, none is walked."""
    for repo in ("hostile-symlinks", "hostile-symlinked-folders"):
        snapshot = guarded(lambda repo=repo: load_checkout(seed / ORG / repo))
        read = set(snapshot.files)
        links = {p for p, c in hostile_files(repo.removeprefix("hostile-")).items() if not isinstance(c, bytes)}
        assert not read & links
        ordinary = {".github/workflows/ci.yml", ".github/workflows/release.yml"}
        assert not any(path.startswith(("docs/", "scripts/", ".github/workflows/")) for path in read - ordinary)
        assert all(b"root:" not in file.content for file in snapshot.files.values())  # no /etc/passwd


def test_check_command_prints_one_line_per_hostile_file_and_no_traceback(
    seed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roots = [str(seed / ORG / repo) for repo in REPOS]
    assert guarded(lambda: main(["check", *roots])) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Error" not in captured.err
    lines = [line for line in captured.out.splitlines() if f" {UNREADABLE_RULE} [warning] " in line]
    assert len(lines) == sum(len(warnings) for warnings in CHECK_WARNINGS.values())
    assert sum("token-mismatch" in line for line in captured.out.splitlines()) >= len(REPOS) - 1


# --- plan against the sandbox -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(seed: Path) -> Iterator[Sandbox]:
    with running_sandbox(seed) as running:
        for repo in running.store.orgs[ORG].repos.values():
            repo.ensure_loaded()  # the sandbox's own copy of the 50 MB file is not the client's memory
        yield running


def plan(sandbox: Sandbox, out: Path, *extra: str) -> int:
    return main(["-q", "plan", "--org", ORG, "--api-url", sandbox.url, "--out", str(out), *extra])


def test_seed_symlinks_become_mode_120000_entries_holding_their_target(sandbox: Sandbox) -> None:
    def entries(name: str) -> dict[str, tuple[str, bytes]]:
        repo = sandbox.store.orgs[ORG].repos[name]
        head = repo.branch_sha(repo.default_branch)
        assert head is not None
        return {p: (e.mode, repo.git.blobs[e.sha]) for p, e in repo.files_at(head).items()}

    links = entries("hostile-symlinks")
    assert links[".github/workflows/passwd.yml"] == (SYMLINK_MODE, b"/etc/passwd")
    assert links[".github/workflows/self.yml"] == (SYMLINK_MODE, b"self.yml")
    folders = entries("hostile-symlinked-folders")
    assert folders[".github/workflows"] == (SYMLINK_MODE, b"/etc")
    assert folders["docs"] == (SYMLINK_MODE, b"/") and folders["README.md"] == (SYMLINK_MODE, b"/etc/passwd")
    assert not any(path.startswith(("docs/", "scripts/", ".github/workflows/")) for path in folders)


def test_plan_completes_with_a_notice_per_hostile_file_and_plans_every_neighbour(
    sandbox: Sandbox, seed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    assert plan(sandbox, tmp_path / "warm.json", "--repo", "ordinary") == 0  # one-off costs (schemas) first
    sandbox.clear_requests()
    with peak_memory() as peak:
        assert guarded(lambda: plan(sandbox, tmp_path / "plan.json")) == 0
    assert peak[0] < MEMORY_BOUND  # for all nine repositories together
    data = json.loads((tmp_path / "plan.json").read_text())
    planned = {r["name"]: {c["path"]: c["disposition"] for c in r["changes"]} for r in data["repos"]}
    neighbours = [repo for repo in REPOS if repo != "hostile-symlinked-folders"]
    assert planned == {f"{ORG}/{repo}": {".github/workflows/release.yml": "safe"} for repo in neighbours}
    for repo in REPOS:
        notices = {}
        for notice in data["notices"]:
            if notice["repo"] == f"{ORG}/{repo}" and f" {UNREADABLE_RULE} [warning] " in notice["message"]:
                path, _, message = notice["message"].partition(": ")
                notices[path.removesuffix(":1:1")] = message
        assert matches(notices, PLAN_WARNINGS[repo]), (repo, notices)
    # The 50 MB blob and the links were judged from the tree and blob metadata, never downloaded.
    never = {git_blob_sha((seed / ORG / "hostile-huge" / WORKFLOWS_DIR / "huge.yml").read_bytes())}
    never |= {git_blob_sha(target.encode()) for target in ("/etc/passwd", "self.yml", "does-not-exist.yml")}
    fetched = [r.path for r in sandbox.requests() if "/git/blobs/" in r.path]
    assert not [path for path in fetched if path.rsplit("/", 1)[-1] in never]


def test_a_symlinked_workflow_folder_gets_a_plan_notice(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    assert plan(sandbox, tmp_path / "plan.json", "--repo", "hostile-symlinked-folders") == 0
    data = json.loads((tmp_path / "plan.json").read_text())
    assert any(WORKFLOWS_DIR in n["message"] and "symbolic link" in n["message"] for n in data["notices"])
