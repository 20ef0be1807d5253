"""One process at a time per journal: an exclusive `flock` beside it, taken when the journal is opened.

Two applies of one plan waste writes racing each other, and an apply and a rollback started together undo
each other's work, so `apply`, `rollback` and `plan merge` (which writes a plan) refuse to start while
another process holds the plan. Under sharding each shard's journal has its own lock, so the shards of one
plan still run in parallel: a sharded run holds its shard's lock exclusively and the plan's lock shared,
an unsharded run (which may touch every shard's repositories) holds the plan's lock exclusively.

The locks are hidden files (`.PLAN.journal.jsonl.lock`) that are never deleted (deleting a lock file
races with the next process to open it); the holder writes its PID there, for the refusal to name.
`flock` locks vanish with the process, so a `kill -9` never leaves a plan locked.
"""

from __future__ import annotations

import fcntl
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from migrator.apply.journal import journal_path, open_regular, plan_of_journal
from migrator.errors import MigratorError, UsageError

LOCK_SUFFIX = ".lock"


def lock_path(journal: Path) -> Path:
    return journal.with_name("." + journal.name + LOCK_SUFFIX)


class Busy(UsageError):
    """Another process holds the plan (exit 2: nothing was done)."""


@dataclass
class JournalLock:
    """Held until `release()`, or until the process ends."""

    paths: tuple[Path, ...]
    _fds: list[int] = field(default_factory=list, repr=False)

    def release(self) -> None:
        while self._fds:
            os.close(self._fds.pop())  # closing the descriptor drops its flock

    def __del__(self) -> None:
        self.release()


def lock_journal(journal: Path, *, what: str) -> JournalLock:
    """Lock `journal` (and its plan, shared, when it is a shard's) for this process, or raise `Busy`."""
    main = journal_path(plan_of_journal(journal))
    wanted = [(lock_path(journal), fcntl.LOCK_EX)]
    if main != journal:
        wanted.insert(0, (lock_path(main), fcntl.LOCK_SH))
    try:
        return _acquire(wanted, plan=plan_of_journal(journal), what=what)
    except Busy:
        gc.collect()  # an earlier command in this same process (the demo, tests) may not be collected yet
        return _acquire(wanted, plan=plan_of_journal(journal), what=what)


@contextmanager
def holding_plan(plan: Path, *, what: str) -> Iterator[JournalLock]:
    """The whole plan, exclusively, for as long as the block runs (writing a plan over one in use)."""
    held = lock_journal(journal_path(plan), what=what)
    try:
        yield held
    finally:
        held.release()


def _acquire(wanted: list[tuple[Path, int]], *, plan: Path, what: str) -> JournalLock:
    held = JournalLock(tuple(path for path, _ in wanted))
    try:
        for path, mode in wanted:
            fd = open_regular(path, os.O_RDWR | os.O_CREAT, what="lock file")
            held._fds.append(fd)
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy(
                    f"{plan} is in use by {_holders(path, plan)}; wait for it to finish "
                    f"(or stop it) before running {what}"
                ) from None
            if mode == fcntl.LOCK_EX:
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {what} {stamp}\n".encode(), 0)
    except BaseException:
        held.release()
        raise
    return held


def _holders(path: Path, plan: Path) -> str:
    """Who holds `path`: its own writer, or (for the plan's lock held shared) every shard that is running."""
    found = [_read_holder(path)]
    if not found[0]:
        for shard_lock in sorted(path.parent.glob("." + plan.name + ".shard-*" + LOCK_SUFFIX)):
            if _is_held(shard_lock):
                found.append(_read_holder(shard_lock))
    named = [f"PID {holder}" for holder in found if holder]
    return ", ".join(named) if named else "another process"


def _read_holder(path: Path) -> str:
    try:
        fd = open_regular(path, os.O_RDONLY, what="lock file")
    except MigratorError:  # only for the message: an unreadable lock names no holder
        return ""
    try:
        if _is_held_fd(fd) and path.stat().st_size:
            pid, _, rest = os.pread(fd, 200, 0).decode("utf-8", "replace").strip().partition(" ")
            command = rest.split(" ")[0]
            return f"{pid} (migrator {command})" if pid.isdigit() else ""
        return ""
    finally:
        os.close(fd)


def _is_held(path: Path) -> bool:
    try:
        fd = open_regular(path, os.O_RDONLY, what="lock file")
    except MigratorError:
        return False
    try:
        return _is_held_fd(fd)
    finally:
        os.close(fd)


def _is_held_fd(fd: int) -> bool:
    """Whether someone holds this lock exclusively (a shared probe fails only against an exclusive one)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False
