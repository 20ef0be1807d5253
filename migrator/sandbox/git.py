"""A tiny git object database: blobs, trees and commits with the ids git computes.

Only what the GitHub API exposes is modelled: no packs, no annotated tags.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from migrator.model import git_blob_sha

FILE_MODE = "100644"
EXEC_MODE = "100755"
SYMLINK_MODE = "120000"  # a symbolic link: a blob holding the link's target, never followed
TREE_MODE = "040000"  # the API spells it with a leading zero; the object format does not


def _object_sha(kind: str, body: bytes) -> str:
    header = f"{kind} {len(body)}\0".encode()
    return hashlib.sha1(header + body, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    name: str
    sha: str

    @property
    def kind(self) -> str:
        return "tree" if self.mode == TREE_MODE else "blob"

    def sort_key(self) -> bytes:
        # git orders trees as if their name ended with "/"
        suffix = "/" if self.kind == "tree" else ""
        return (self.name + suffix).encode()


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int  # seconds since the epoch, UTC

    def serialise(self) -> str:
        return f"{self.name} <{self.email}> {self.timestamp} +0000"


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


@dataclass(frozen=True)
class FileEntry:
    """A file in a flattened tree."""

    sha: str
    mode: str = FILE_MODE


def serialise_tree(entries: Iterable[TreeEntry]) -> bytes:
    out = bytearray()
    for entry in sorted(entries, key=TreeEntry.sort_key):
        mode = "40000" if entry.kind == "tree" else entry.mode
        out += f"{mode} {entry.name}\0".encode() + bytes.fromhex(entry.sha)
    return bytes(out)


def serialise_commit(tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str) -> bytes:
    lines = [f"tree {tree}"]
    lines += [f"parent {parent}" for parent in parents]
    lines += [f"author {author.serialise()}", f"committer {committer.serialise()}", "", message]
    return "\n".join(lines).encode()


class ObjectDB:
    """Content-addressed objects of one repository."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, tuple[TreeEntry, ...]] = {}
        self.commits: dict[str, Commit] = {}

    def kind(self, sha: str) -> str | None:
        if sha in self.commits:
            return "commit"
        if sha in self.trees:
            return "tree"
        if sha in self.blobs:
            return "blob"
        return None

    def resolve_prefix(self, prefix: str) -> str | None:
        """A full id from an unambiguous abbreviation (at least 4 hex digits)."""
        if len(prefix) == 40:
            return prefix if self.kind(prefix) else None
        if len(prefix) < 4:
            return None
        matches = [sha for db in (self.commits, self.trees, self.blobs) for sha in db if sha.startswith(prefix)]
        return matches[0] if len(matches) == 1 else None

    def put_blob(self, data: bytes) -> str:
        sha = git_blob_sha(data)
        self.blobs.setdefault(sha, data)
        return sha

    def put_tree(self, entries: Iterable[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=TreeEntry.sort_key))
        sha = _object_sha("tree", serialise_tree(ordered))
        self.trees.setdefault(sha, ordered)
        return sha

    def put_commit(
        self, *, tree: str, parents: tuple[str, ...], author: Signature, committer: Signature, message: str
    ) -> Commit:
        sha = _object_sha("commit", serialise_commit(tree, parents, author, committer, message))
        commit = Commit(sha, tree, parents, author, committer, message)
        self.commits.setdefault(sha, commit)
        return commit

    def build_tree(self, files: Mapping[str, FileEntry]) -> str:
        """Write the trees for a flat path -> file map and return the root tree id."""
        children: dict[str, dict[str, FileEntry]] = {}
        entries: list[TreeEntry] = []
        for path, entry in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = entry
            else:
                entries.append(TreeEntry(entry.mode, head, entry.sha))
        for name, sub in children.items():
            entries.append(TreeEntry(TREE_MODE, name, self.build_tree(sub)))
        return self.put_tree(entries)

    def flatten(self, tree_sha: str, prefix: str = "") -> dict[str, FileEntry]:
        files: dict[str, FileEntry] = {}
        for entry in self.trees[tree_sha]:
            path = prefix + entry.name
            if entry.kind == "tree":
                files.update(self.flatten(entry.sha, path + "/"))
            else:
                files[path] = FileEntry(entry.sha, entry.mode)
        return files

    def lookup_path(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry at `path` below a tree; a synthetic tree entry for the root."""
        parts = [p for p in path.split("/") if p]
        current = TreeEntry(TREE_MODE, "", tree_sha)
        for part in parts:
            if current.kind != "tree":
                return None
            found = next((e for e in self.trees[current.sha] if e.name == part), None)
            if found is None:
                return None
            current = found
        return current

    def ancestors(self, sha: str) -> list[str]:
        """Breadth-first ancestry, the commit itself first."""
        seen: set[str] = set()
        order: list[str] = []
        queue = deque([sha])
        while queue:
            current = queue.popleft()
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            order.append(current)
            queue.extend(self.commits[current].parents)
        return order

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in set(self.ancestors(descendant))

    def merge_base(self, a: str, b: str) -> str | None:
        in_a = set(self.ancestors(a))
        return next((sha for sha in self.ancestors(b) if sha in in_a), None)


def three_way_merge(
    base: Mapping[str, FileEntry], ours: Mapping[str, FileEntry], theirs: Mapping[str, FileEntry]
) -> dict[str, FileEntry] | None:
    """A file-level three-way merge; None when both sides changed a file differently."""
    merged: dict[str, FileEntry] = {}
    for path in set(base) | set(ours) | set(theirs):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if t in (o, b):
            result = o
        elif o == b:
            result = t
        else:
            return None
        if result is not None:
            merged[path] = result
    return merged


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def valid_ref_name(name: str) -> bool:
    """git's `check-ref-format` rules (git-check-ref-format(1)), which GitHub applies to every ref it creates:
    no control characters, space, `~ ^ : ? * [ \\`, no `..`, `@{` or `//`, no component starting with `.` or
    ending with `.lock`, not ending with `/` or `.`, and not `@`."""
    if not name or name == "@" or name.endswith(("/", ".")) or name.startswith("/"):
        return False
    if _REF_FORBIDDEN.search(name):
        return False
    return all(part and not part.startswith(".") and not part.endswith(".lock") for part in name.split("/"))
