"""The user's migrator state, outside any checkout: which plan was applied last, and when.

`migrator apply plan.json` records the plan's absolute path here before its first write, so a bare
`migrator status` or `migrator rollback` finds it from any directory. The folder is the platform's
user state directory (platformdirs), or `$MIGRATOR_STATE_DIR`.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_state_dir

STATE_DIR_ENV = "MIGRATOR_STATE_DIR"
LAST_APPLY = "last-apply.json"
_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class LastApply:
    plan: Path  # absolute
    plan_id: str
    org: str
    applied_at: str  # ISO 8601 UTC, when the apply started


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or user_state_dir("migrator", appauthor=False))


def record_apply(plan: Path, *, plan_id: str, org: str, now: datetime | None = None) -> LastApply:
    """Remember this apply (a resumed one keeps its first start). A state folder that cannot be written costs only
    the convenience: say nothing."""
    stamp = (now or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    earlier = last_apply()
    if earlier is not None and earlier.plan == plan.resolve() and earlier.plan_id == plan_id:
        stamp = earlier.applied_at  # a resumed apply is the same apply: it began when the first run did
    last = LastApply(plan=plan.resolve(), plan_id=plan_id, org=org, applied_at=stamp)
    body = json.dumps(
        {"plan": str(last.plan), "plan_id": plan_id, "org": org, "applied_at": stamp}, indent=2, sort_keys=True
    )
    write_state_file(state_dir() / LAST_APPLY, body)
    return last


def write_state_file(path: Path, text: str) -> None:
    """Write a state file atomically. A state folder that cannot be written costs only the convenience."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(temp, path)  # replaces a planted symlink itself, never its target
    except OSError:
        pass


def read_state_file(path: Path, *, max_bytes: int = _MAX_BYTES) -> Any:
    """A state file's JSON; None when it is missing, not a regular file (never followed through a symlink),
    or not JSON."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return json.loads(handle.read(max_bytes))
    except (OSError, ValueError):
        return None


def last_apply() -> LastApply | None:
    """The last apply recorded, or None (no file, not a regular file, or not what we wrote)."""
    data = read_state_file(state_dir() / LAST_APPLY)
    try:
        return LastApply(
            plan=Path(str(data["plan"])),
            plan_id=str(data["plan_id"]),
            org=str(data["org"]),
            applied_at=str(data["applied_at"]),
        )
    except (KeyError, TypeError):
        return None
