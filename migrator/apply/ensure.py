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


class WouldWrite(Exception):
    """A dry run reached its first write: the same reads decided everything up to here."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


@dataclass
class Ensurer:
    journal: Journal
    pacer: Pacer
    op: str  # "apply" | "rollback"
    repo: str
    dry_run: bool = False  # read and decide as for real; stop with WouldWrite at the first write, journal nothing
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
        last_answer = "none"
        for _attempt in range(MAX_ATTEMPTS):
            if done():
                if not self.dry_run:
                    self.journal.record(op=self.op, repo=self.repo, step=step, phase="done", **result())
                return
            if self.dry_run:
                raise WouldWrite(step)
            self.pacer.acquire()
            self.journal.record(op=self.op, repo=self.repo, step=step, phase="intent")
            self.writes += 1
            try:
                write()
            except Throttled as throttled:
                self._log.warning("throttled", step=step, wait=throttled.wait)
                last_answer = str(throttled)
                self.pacer.cool_down(throttled.wait)
            except (Ambiguous, AlreadyExists) as unclear:
                self._log.warning("unclear answer; reading back", step=step, error=str(unclear))
                last_answer = str(unclear)
            else:
                self.journal.record(op=self.op, repo=self.repo, step=step, phase="done", **result())
                return
        raise Ambiguous(f"{step} did not settle after {MAX_ATTEMPTS} attempts; GitHub's last answer: {last_answer}")
