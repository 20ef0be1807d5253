"""Read a local repository checkout into a RepoSnapshot (for `migrator check`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from migrator.errors import InputError
from migrator.model import WORKFLOW_SUFFIXES, WORKFLOWS_DIR, RepoFile, RepoSnapshot
from migrator.workflow.document import MAX_WORKFLOW_BYTES

# Companion files: where badges and mentions of workflows live, and package scripts.
_COMPANION_GLOBS = ("README*", ".github/README*", "package.json", "docs/**/*.md", "scripts/**/*")
_MAX_COMPANIONS = 400
_MAX_COMPANION_BYTES = 512_000
_REMOTE = re.compile(r"url\s*=\s*\S*github[^:/]*[:/]+([\w.-]+/[\w.-]+?)(?:\.git)?\s*$", re.MULTILINE)


def load_checkout(root: Path, *, default_branch: str | None = None, pat_secret: str | None = None) -> RepoSnapshot:
    if not root.exists():
        raise InputError(f"{root} does not exist; pass the root of a repository checkout")
    if not root.is_dir():
        raise InputError(f"{root} is not a directory; pass the root of a repository checkout")
    if root.resolve().name in {".github", "workflows"}:
        raise InputError(f"{root} looks like a workflow folder; pass the repository root that contains .github/")
    files: dict[str, RepoFile] = {}
    skipped: dict[str, str] = {}
    _read_workflows(root, files, skipped)
    _read_companions(root, files)
    return RepoSnapshot(
        name=_repo_name(root),
        files=dict(sorted(files.items())),
        default_branch=default_branch or _default_branch(root) or _branch_from_workflows(files),
        pat_secret=pat_secret,
        skipped=skipped,
    )


def _read_workflows(root: Path, files: dict[str, RepoFile], skipped: dict[str, str]) -> None:
    directory = root / WORKFLOWS_DIR
    if (root / ".github").is_symlink() or directory.is_symlink():
        skipped[WORKFLOWS_DIR] = "a symbolic link; not followed"
        return
    if not directory.is_dir():
        return
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        path = WORKFLOWS_DIR + entry.name
        if not entry.name.endswith(WORKFLOW_SUFFIXES):
            continue  # disabled (*.yml.off) and other files: GitHub does not run them
        if entry.is_symlink():
            skipped[path] = "a symbolic link; not followed"
        elif entry.is_file():
            content = _read_capped(Path(entry.path), MAX_WORKFLOW_BYTES)
            files[path] = RepoFile(path, content)


def _read_capped(path: Path, limit: int) -> bytes:
    """Read at most limit+1 bytes: enough to tell a file is too large without loading 50 MB."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def _read_companions(root: Path, files: dict[str, RepoFile]) -> None:
    count = 0
    for pattern in _COMPANION_GLOBS:
        for candidate in sorted(root.glob(pattern)):
            if count >= _MAX_COMPANIONS:
                return
            if candidate.is_symlink() or not candidate.is_file() or ".git" in candidate.parts:
                continue
            if candidate.stat().st_size > _MAX_COMPANION_BYTES:
                continue
            path = candidate.relative_to(root).as_posix()
            files.setdefault(path, RepoFile(path, candidate.read_bytes()))
            count += 1


def _git_file(root: Path, name: str) -> str:
    try:
        return (root / ".git" / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _repo_name(root: Path) -> str:
    match = _REMOTE.search(_git_file(root, "config"))
    return match.group(1) if match else root.resolve().name


def _default_branch(root: Path) -> str | None:
    """origin/HEAD when the clone recorded it. The checked-out branch says nothing about the default one."""
    match = re.search(r"ref:\s*refs/remotes/origin/(\S+)", _git_file(root, "refs/remotes/origin/HEAD"))
    return match.group(1) if match else None


def _branch_from_workflows(files: dict[str, RepoFile]) -> str:
    """`master` when the workflows build on pushes to master and never to main; else `main`."""
    text = b"\n".join(f.content for path, f in files.items() if path.startswith(WORKFLOWS_DIR))
    if re.search(rb"\bmaster\b", text) and not re.search(rb"\bmain\b", text):
        return "master"
    return "main"
