"""The values every layer shares: repository snapshots, findings and fixes.

All of them are frozen. Offsets in `TextEdit` are character offsets into the
file's decoded text (UTF-8), so an edit changes exactly the characters it names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

WORKFLOWS_DIR = ".github/workflows/"
WORKFLOW_SUFFIXES = (".yml", ".yaml")


def git_blob_sha(content: bytes) -> str:
    """The object id git gives a blob with this content."""
    header = b"blob %d\0" % len(content)
    return hashlib.sha1(header + content, usedforsecurity=False).hexdigest()


def is_workflow_path(path: str) -> bool:
    """True for files GitHub runs: directly inside .github/workflows, ending .yml/.yaml."""
    if not path.startswith(WORKFLOWS_DIR):
        return False
    name = path[len(WORKFLOWS_DIR) :]
    return "/" not in name and name.endswith(WORKFLOW_SUFFIXES)


@dataclass(frozen=True)
class RepoFile:
    path: str
    content: bytes
    blob_sha: str = ""

    def __post_init__(self) -> None:
        if not self.blob_sha:
            object.__setattr__(self, "blob_sha", git_blob_sha(self.content))

    def __repr__(self) -> str:  # file bodies are noise in logs and test failures
        return f"RepoFile({self.path!r}, {len(self.content)} bytes, {self.blob_sha[:10]})"


@dataclass(frozen=True)
class RepoSnapshot:
    """What the rules see of one repository: its workflows plus a few companion files.

    `files` holds the workflow files and companions such as README.md or package.json.
    `pat_secret` is the org's release PAT when policy or `--pat-secret` names it.
    """

    name: str
    files: Mapping[str, RepoFile]
    default_branch: str = "main"
    pat_secret: str | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)  # path -> why it was not read

    @classmethod
    def of(cls, name: str, contents: Mapping[str, bytes], **kwargs: object) -> RepoSnapshot:
        files = {path: RepoFile(path, data) for path, data in sorted(contents.items())}
        return cls(name=name, files=files, **kwargs)  # type: ignore[arg-type]

    def workflow_paths(self) -> list[str]:
        return sorted(p for p in self.files if is_workflow_path(p))


class Severity(StrEnum):
    ERROR = "error"  # a real problem with a fix (or a blocked fix)
    WARNING = "warning"  # the file could not be analysed, or needs a human
    NOTE = "note"  # informational only; does not fail `check`


class Safety(StrEnum):
    SAFE = "safe"  # applied by default
    REVIEW = "review"  # applied only when asked to


@dataclass(frozen=True, order=True)
class Location:
    path: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class TextEdit:
    """Replace text[start:end] of `path` with `text`.

    With `drop_blank_line`, a line left holding only white space once all chosen edits
    are applied is removed whole (so two badges removed from one line leave no gap).
    """

    path: str
    start: int
    end: int
    text: str
    drop_blank_line: bool = False


@dataclass(frozen=True, order=True)
class DeleteFile:
    path: str


Edit = TextEdit | DeleteFile


@dataclass(frozen=True)
class Fix:
    description: str
    safety: Safety
    edits: tuple[Edit, ...]
    # What a reviewer should know: what is lost, what else refers to a deleted file.
    notes: tuple[str, ...] = ()
    # A secret the fixed workflow will read; planning blocks the fix when the repo cannot see it.
    requires_secret: str | None = None

    def paths(self) -> list[str]:
        return sorted({e.path for e in self.edits})


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    location: Location
    message: str
    fixes: tuple[Fix, ...] = ()
    notes: tuple[str, ...] = ()
    # Why the rule says so, each line starting `path:line:` (where the PAT is seen, which step releases and
    # how it pushes; for a race, the event and tag both publishers share).
    evidence: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule, self.message)
