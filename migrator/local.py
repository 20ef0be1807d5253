"""Read a local repository checkout into a RepoSnapshot (for `migrator check`)."""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from migrator.errors import InputError
from migrator.model import WORKFLOW_SUFFIXES, WORKFLOWS_DIR, RepoFile, RepoSnapshot
from migrator.workflow.document import MAX_WORKFLOW_BYTES

# Companion files: where badges and mentions of workflows live, and package scripts.
# (folder, name pattern, whole subtree): README*, .github/README*, package.json, docs/**/*.md, scripts/**/*
_COMPANIONS = (
    ("", "README*", False),
    (".github", "README*", False),
    ("", "package.json", False),
    ("docs", "*.md", True),
    ("scripts", "*", True),
)
_MAX_COMPANIONS = 400
_MAX_COMPANION_BYTES = 512_000
_MAX_GIT_FILE_BYTES = 64_000
_MAX_VISITS = 20_000  # directory entries looked at while finding companions: a huge docs/ tree costs no more
_REMOTE = re.compile(r"url\s*=\s*\S*github[^:/]*[:/]+([\w.-]+/[\w.-]+?)(?:\.git)?\s*$", re.MULTILINE)
_SYMLINK = "a symbolic link; not followed"
# Opening never follows a link (the check before it could race) and never blocks on a fifo.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


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
    _read_workspaces(root, files)
    return RepoSnapshot(
        name=_repo_name(root),
        files=dict(sorted(files.items())),
        default_branch=default_branch or _default_branch(root) or branch_from_workflows(files),
        pat_secret=pat_secret,
        skipped=skipped,
    )


def _read_workflows(root: Path, files: dict[str, RepoFile], skipped: dict[str, str]) -> None:
    directory = root / WORKFLOWS_DIR
    if (root / ".github").is_symlink() or directory.is_symlink():
        skipped[WORKFLOWS_DIR] = _SYMLINK
        return
    if not directory.is_dir():
        return
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    for entry in entries:
        path = WORKFLOWS_DIR + entry.name
        if not entry.name.endswith(WORKFLOW_SUFFIXES) or entry.is_dir(follow_symlinks=False):
            continue  # disabled (*.yml.off) and other files: GitHub does not run them
        if entry.is_symlink():
            skipped[path] = _SYMLINK
            continue
        content = read_capped(Path(entry.path), MAX_WORKFLOW_BYTES)
        if isinstance(content, bytes):
            files[path] = RepoFile(path, content)
        else:
            skipped[path] = content


def read_capped(path: Path, limit: int) -> bytes | str:
    """At most limit+1 bytes of a regular file: enough to tell it is too large without loading 50 MB.

    A symbolic link, a fifo, a device or an unreadable file gives the reason instead, in one line.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        return _SYMLINK if error.errno == errno.ELOOP else f"cannot be read ({error.strerror or error})"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "not a regular file"
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    finally:
        os.close(fd)


def _read_companions(root: Path, files: dict[str, RepoFile]) -> None:
    """Companion files, never through a symbolic link (file or folder) and never outside the checkout."""
    budget = [_MAX_VISITS]
    count = 0
    for folder, pattern, recursive in _COMPANIONS:
        top = root / folder
        if folder and (top.is_symlink() or not top.is_dir()):
            continue
        for candidate in sorted(_matching(top, pattern, recursive=recursive, budget=budget)):
            if count >= _MAX_COMPANIONS:
                return
            path = candidate.relative_to(root).as_posix()
            if path in files:
                continue
            content = read_capped(candidate, _MAX_COMPANION_BYTES)
            if isinstance(content, bytes) and len(content) <= _MAX_COMPANION_BYTES:
                files[path] = RepoFile(path, content)
                count += 1


_MAX_WORKSPACES = 200


def _read_workspaces(root: Path, files: dict[str, RepoFile]) -> None:
    """The package.json of each workspace package that root package.json names (`"workspaces": ["pkgs/*"]`),
    so release scripts run through `yarn workspace` or turbo resolve. Links are never followed."""
    root_json = files.get("package.json")
    if root_json is None:
        return
    try:
        data = json.loads(root_json.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    globs = data.get("workspaces") if isinstance(data, dict) else None
    if isinstance(globs, dict):
        globs = globs.get("packages")
    if not isinstance(globs, list):
        return
    found = 0
    for pattern in sorted({g for g in globs if isinstance(g, str) and ".." not in g and not g.startswith("/")}):
        for folder in sorted(root.glob(pattern.rstrip("/"))):
            candidate = folder / "package.json"
            if found >= _MAX_WORKSPACES or any(p.is_symlink() for p in (folder, candidate)):
                continue
            if not candidate.is_file() or root.resolve() not in candidate.resolve().parents:
                continue
            content = read_capped(candidate, _MAX_COMPANION_BYTES)
            if isinstance(content, bytes) and len(content) <= _MAX_COMPANION_BYTES:
                path = candidate.relative_to(root).as_posix()
                files.setdefault(path, RepoFile(path, content))
                found += 1


def _matching(top: Path, pattern: str, *, recursive: bool, budget: list[int]) -> Iterator[Path]:
    """Regular files below top whose name matches; links are neither returned nor entered, .git is skipped.

    `budget` counts directory entries looked at, across calls; when it runs out the walk stops.
    """
    folders = [top]
    while folders:
        try:
            with os.scandir(folders.pop()) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            budget[0] -= 1
            if budget[0] < 0:
                return
            if entry.is_symlink() or entry.name == ".git":
                continue
            if entry.is_dir(follow_symlinks=False):
                if recursive:
                    folders.append(Path(entry.path))
            elif fnmatch.fnmatchcase(entry.name, pattern) and entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def _git_file(root: Path, name: str) -> str:
    """A small file of .git, or "" (a link to /dev/zero or a 50 MB config is not read whole)."""
    if (root / ".git").is_symlink():
        return ""
    content = read_capped(root / ".git" / name, _MAX_GIT_FILE_BYTES)
    return content.decode("utf-8", errors="replace") if isinstance(content, bytes) else ""


def _repo_name(root: Path) -> str:
    match = _REMOTE.search(_git_file(root, "config"))
    return match.group(1) if match else root.resolve().name


def _default_branch(root: Path) -> str | None:
    """origin/HEAD when the clone recorded it. The checked-out branch says nothing about the default one."""
    match = re.search(r"ref:\s*refs/remotes/origin/(\S+)", _git_file(root, "refs/remotes/origin/HEAD"))
    return match.group(1) if match else None


def branch_from_workflows(files: dict[str, RepoFile]) -> str:
    """`master` when the workflows build on pushes to master and never to main; else `main`."""
    text = b"\n".join(f.content for path, f in files.items() if path.startswith(WORKFLOWS_DIR))
    if re.search(rb"\bmaster\b", text) and not re.search(rb"\bmain\b", text):
        return "master"
    return "main"
