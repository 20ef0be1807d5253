"""The one loop every remote write goes through: read, write only if needed, read back when unsure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from migrator.apply.journal import Journal
from migrator.apply.pacing import Pacer
from migrator.apply.ports import AlreadyExists, Ambiguous, Throttled
from migrator.log import get_logger

MAX_ATTEMPTS = 6


@dataclass
class Ensurer:
    journal: Journal
    pacer: Pacer
    op: str  # "apply" | "rollback"
    repo: str
    writes: int = 0
    _log: Any = field(init=False)

    def __post_init__(self) -> None:
        self._log = get_logger(repo=self.repo, step=self.op)

    def __call__(
        self,
        step: str,
        done: Callable[[], bool],
        write: Callable[[], None],
        result: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        """`done` reads the remote state (raising to stop); `write` makes one content-creating request."""
        for _attempt in range(MAX_ATTEMPTS):
            if done():
                self.journal.record(op=self.op, repo=self.repo, step=step, phase="done", **result())
                return
            self.pacer.acquire()
            self.journal.record(op=self.op, repo=self.repo, step=step, phase="intent")
            self.writes += 1
            try:
                write()
            except Throttled as throttled:
                self._log.warning("throttled", step=step, wait=throttled.wait)
                self.pacer.cool_down(throttled.wait)
            except (Ambiguous, AlreadyExists) as unclear:
                self._log.warning("unclear answer; reading back", step=step, error=str(unclear))
            else:
                self.journal.record(op=self.op, repo=self.repo, step=step, phase="done", **result())
                return
        raise Ambiguous(f"{step} did not settle after {MAX_ATTEMPTS} attempts")
