"""Paths given on the command line, checked before the first request: one line that says what is wrong.

A directory where a file belongs, a missing file, a path under a file, a fifo or device, a file that
cannot be read, a folder that cannot be written: each is refused here, so no command reads an org
for minutes and then fails on its output path.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from migrator.errors import UsageError


def readable_file(path: Path, what: str) -> Path:
    """`path` names a regular file this process can read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a fifo must not hang the check
    except OSError as error:
        raise UsageError(f"{what} {path}: {_why(path, error)}") from None
    try:
        mode = os.fstat(fd).st_mode
    finally:
        os.close(fd)
    if stat.S_ISDIR(mode):
        raise UsageError(f"{what} {path} is a directory; name a file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{what} {path} is not a regular file")
    return path


def writable_file(path: Path, what: str, *, create_folders: bool = False) -> Path:
    """A file can be written at `path` (atomically, through a temp file beside it). A missing folder is an
    error (a typo must not become a new folder) unless `create_folders`, for defaults such as plans/."""
    if path.is_dir():
        raise UsageError(f"{what} {path} is a directory; name a file inside it, e.g. {path / 'plan.json'}")
    if path.exists() and not path.is_file():
        raise UsageError(f"{what} {path} exists and is not a regular file")
    parent = _existing_ancestor(path.parent)
    if not parent.is_dir():
        raise UsageError(f"{what} {path}: {parent} is a file, not a directory")
    if parent != path.parent and not create_folders:
        raise UsageError(f"{what} {path}: the folder {path.parent} does not exist; create it first")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".migrator-probe.")
    except OSError as error:
        raise UsageError(f"{what} {path}: cannot write in {parent} ({_reason(error)})") from None
    os.close(fd)
    os.unlink(probe)
    return path


def _existing_ancestor(folder: Path) -> Path:
    """The nearest folder that exists (the others are created when the file is written)."""
    while not folder.exists() and folder != folder.parent:
        if folder.is_symlink():
            break
        folder = folder.parent
    return folder


def _why(path: Path, error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return "no such file"
    if error.errno == errno.ENOTDIR:
        return f"{_file_ancestor(path)} is a file, not a directory"
    if error.errno == errno.EISDIR:
        return "is a directory; name a file"
    return _reason(error)


def _file_ancestor(path: Path) -> Path:
    for ancestor in path.parents:
        if ancestor.is_file():
            return ancestor
    return path.parent


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
