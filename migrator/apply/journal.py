"""The append-only journal beside a plan: the intent and result of every remote write.

One JSON object per line, fsynced per event, so a `kill -9` loses at most the
line being written. Resume, status and rollback all replay it. A torn last line
(from a crash mid-write) is ignored on replay.
"""

from __future__ import annotations

import glob
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrator.errors import InputError
from migrator.log import redact
from migrator.plan.shard import Shard

if TYPE_CHECKING:
    from migrator.apply.lock import JournalLock

JOURNAL_SUFFIX = ".journal.jsonl"


_SHARD_PART = r"(?:\.shard-\d+-of-\d+)?"


def journal_path(plan_path: Path, shard: Shard | None = None) -> Path:
    """`PLAN.journal.jsonl`, or `PLAN.shard-K-of-N.journal.jsonl` for a shard's apply, so that shards
    applied in parallel never append to one file."""
    middle = f".{shard.slug}" if shard else ""
    return plan_path.with_name(plan_path.name + middle + JOURNAL_SUFFIX)


def plan_journals(plan_path: Path) -> list[Path]:
    """Every journal of this plan that exists: the unsharded one and each shard's."""
    mine = re.compile(re.escape(plan_path.name) + _SHARD_PART + re.escape(JOURNAL_SUFFIX))
    candidates = plan_path.parent.glob(glob.escape(plan_path.name) + "*" + JOURNAL_SUFFIX)
    return sorted(path for path in candidates if mine.fullmatch(path.name))


def plan_of_journal(journal: Path) -> Path:
    """The plan a journal (sharded or not) belongs to."""
    return journal.with_name(re.sub(_SHARD_PART + re.escape(JOURNAL_SUFFIX) + "$", "", journal.name))


@dataclass
class RepoJournal:
    """What the journal says happened to one repository, folded from its events."""

    branch_created: bool = False
    commit_oid: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None
    pr_numbers: set[int] = field(default_factory=set)  # every PR apply opened here (across a campaign's plans)
    commit_oids: set[str] = field(default_factory=set)  # every commit apply made here
    status: str | None = None  # the last apply outcome
    rollback_status: str | None = None
    revert_branch: str | None = None
    revert_commit_oid: str | None = None
    revert_pr_number: int | None = None
    revert_pr_url: str | None = None
    rollback_done: set[str] = field(default_factory=set)  # rollback steps that finished
    # Steps begun (an `intent`, written just before the request) or finished, per op. A step with only an
    # intent may or may not have happened (a kill between the request and its `done` line): GitHub decides.
    apply_begun: set[str] = field(default_factory=set)
    apply_done: set[str] = field(default_factory=set)
    rollback_begun: set[str] = field(default_factory=set)
    decorated: dict[str, tuple[str, ...]] = field(default_factory=dict)  # labels, reviewers, team_reviewers added

    @property
    def branch_ours(self) -> bool:
        """Our journal shows we created (or set out to create) the branch: the only proof a branch is ours."""
        return self.branch_created or "branch" in self.apply_begun

    @property
    def touched(self) -> bool:
        """Apply may have written something here."""
        return bool(self.apply_begun or self.branch_created or self.pr_number)


@dataclass
class Journal:
    path: Path
    plan_id: str
    repos: dict[str, RepoJournal] = field(default_factory=dict)
    last_event_at: str | None = None
    intents_at: list[str] = field(default_factory=list)  # when each write was sent, across every journal replayed
    _seq: int = 0

    lock: JournalLock | None = None

    @classmethod
    def open(cls, path: Path, plan_id: str, *, replay: Sequence[Path] = (), lock_for: str | None = None) -> Journal:
        """Appends go to `path`; the state is folded from `path` and `replay` (the other shards' journals),
        in the order the events happened. With `lock_for` (the command, e.g. "apply"), this process first
        takes the journal's lock (`migrator.apply.lock`), or refuses to start if another process holds it."""
        journal = cls(path, plan_id)
        if lock_for is not None:
            from migrator.apply.lock import lock_journal

            journal.lock = lock_journal(path, what=lock_for)
        sources = [path, *(other for other in replay if other != path)]
        events = [
            (str(event.get("at") or ""), source, line, event)
            for source, events_path in enumerate(sources)
            for line, event in enumerate(read_events(events_path))
        ]
        for *_, event in sorted(events, key=lambda item: item[:3]):
            journal._fold(event)
        return journal

    def close(self) -> None:
        """Let other processes have the journal (also done when the process ends)."""
        if self.lock is not None:
            self.lock.release()

    def repo(self, name: str) -> RepoJournal:
        return self.repos.setdefault(name, RepoJournal())

    def record(self, *, op: str, repo: str, step: str, phase: str, **data: Any) -> None:
        self._seq += 1
        event = {
            "v": 1,
            "seq": self._seq,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "plan_id": self.plan_id,
            "op": op,
            "repo": repo,
            "step": step,
            "phase": phase,
            "data": data,
        }
        line = redact(json.dumps(event, sort_keys=True)) + "\n"
        fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, what="journal")
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self._fold(event)

    def _fold(self, event: dict[str, Any]) -> None:
        self._seq = max(self._seq, int(event.get("seq", 0)))
        self.last_event_at = event.get("at", self.last_event_at)
        if event.get("phase") == "intent" and event.get("at"):
            self.intents_at.append(str(event["at"]))
        state = self.repo(str(event["repo"]))
        step, op = str(event.get("step")), event.get("op")
        if op == "apply" and step != "repo":
            state.apply_begun.add(step)
        elif op == "rollback" and step != "repo":
            state.rollback_begun.add(step)
        if event.get("phase") != "done":
            return
        if op == "apply":
            state.apply_done.add(step)
        data = event.get("data", {})
        key = (event.get("op"), event.get("step"))
        if key == ("apply", "branch"):
            state.branch_created = True
        elif key in {("apply", "commit"), ("apply", "update")}:
            state.commit_oid = data.get("oid")
            if isinstance(data.get("oid"), str):
                state.commit_oids.add(data["oid"])
        elif key == ("apply", "pull"):
            state.pr_number, state.pr_url = data.get("number"), data.get("url")
            if isinstance(data.get("number"), int):
                state.pr_numbers.add(data["number"])
        elif key == ("apply", "labels"):
            state.decorated["labels"] = (*state.decorated.get("labels", ()), *map(str, data.get("names") or ()))
        elif key == ("apply", "reviewers"):
            for kind, source in (("reviewers", "users"), ("team_reviewers", "teams")):
                state.decorated[kind] = (*state.decorated.get(kind, ()), *map(str, data.get(source) or ()))
        elif key == ("apply", "repo"):
            state.status = data.get("status")
        elif key == ("rollback", "revert-branch"):
            state.revert_branch = data.get("branch")
        elif key == ("rollback", "revert-commit"):
            state.revert_commit_oid = data.get("oid")
        elif key == ("rollback", "revert-pull"):
            state.revert_pr_number, state.revert_pr_url = data.get("number"), data.get("url")
        elif key == ("rollback", "repo"):
            state.rollback_status = data.get("status")
        if event.get("op") == "rollback":
            state.rollback_done.add(str(event.get("step")))


def open_regular(path: Path, flags: int, *, what: str) -> int:
    """`os.open` that never follows a symbolic link and accepts only a regular file (not a fifo, a device
    or a folder), so a planted link cannot make migrator write to, or read from, some other file."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if path.is_symlink():
            raise InputError(f"{what} {path} is a symbolic link; migrator does not follow it: remove it") from None
        raise InputError(f"cannot open {what} {path}: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{what} {path} is not a regular file; remove it") from None
    return fd


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    if not os.path.lexists(path):
        return
    fd = open_regular(path, os.O_RDONLY, what="journal")
    with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a crash mid-write
            if isinstance(event, dict) and "repo" in event:
                yield event
