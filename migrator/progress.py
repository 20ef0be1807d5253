"""What a person sees on a terminal: one rich console on stderr, a progress line, and the pager.

Off a terminal nothing here draws anything: logs (JSON lines) tell the story, results go to stdout.
While a progress line is live, rich redirects stderr, so a log line is printed above the bar and
never glued onto it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
from rich.progress import Progress as RichProgress

Eta = Callable[[int, int], float | None]  # (done, total) -> seconds left, or None when unknown


def console(stream: TextIO | None = None) -> Console:
    """A console on stderr (resolved at each write, so tests that swap sys.stderr see the output)."""
    return Console(file=stream, stderr=stream is None, highlight=False, soft_wrap=True)


def interactive(stream: TextIO | None = None) -> bool:
    target = stream or sys.stderr
    return target.isatty() and os.environ.get("TERM") != "dumb"


def duration(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """`progress(done, total, item)` draws one line: label, bar, done/total, a single ETA, a note, the item.

    `eta` knows better than the average rate when the pace is set from outside (apply's write pacing);
    without it the ETA is the remaining items at the rate so far. `note(text)` says what is happening now,
    such as a wait for a rate limit, until the next item clears it.
    """

    def __init__(
        self,
        label: str,
        *,
        eta: Eta | None = None,
        extra: Callable[[], str] | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._label = label
        self._eta = eta
        self._extra = extra
        self._clock = clock
        self._started = clock()
        self._enabled = interactive(stream)
        self._stream = stream
        self._bar: RichProgress | None = None
        self._task: Any = None
        self._note = ""
        self._done = 0
        self._total = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __call__(self, done: int, total: int, item: str = "") -> None:
        self._done, self._total = done, total
        if item:
            self._note = ""
        self._draw(item)

    @property
    def done(self) -> int:
        return self._done

    def note(self, text: str) -> None:
        self._note = text
        self._draw(None)

    def eta_seconds(self) -> float | None:
        """The slower of what the pace allows and what the rate so far says: one ETA, never two."""
        elapsed = self._clock() - self._started
        observed = None
        if self._done > 0 and elapsed > 0 and self._total >= self._done:
            observed = (self._total - self._done) * elapsed / self._done
        paced = self._eta(self._done, self._total) if self._eta is not None else None
        known = [e for e in (observed, paced) if e is not None]
        return max(known) if known else None

    def _draw(self, item: str | None) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            self._start()
        assert self._bar is not None
        eta = self.eta_seconds()
        fields: dict[str, Any] = {
            "eta": f"ETA {duration(eta)}" if eta is not None else "",
            "extra": " · ".join(part for part in (self._extra() if self._extra else "", self._note) if part),
        }
        if item is not None:
            fields["item"] = item[:48]
        self._bar.update(self._task, completed=self._done, total=max(self._total, 1), **fields)

    def _start(self) -> None:
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[eta]}"),
            TextColumn("[dim]{task.fields[extra]}"),
            TextColumn("{task.fields[item]}", markup=False),
            console=console(self._stream),
            transient=True,
            redirect_stdout=False,  # results on stdout stay where they belong
            redirect_stderr=True,  # logs print above the bar
        )
        self._task = self._bar.add_task(self._label, total=max(self._total, 1), eta="", extra="", item="")
        self._bar.start()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def page(text: str, *, enabled: bool) -> None:
    """Write `text` to stdout, through $PAGER when stdout is a terminal (as git does: `less -FRX`)."""
    command = os.environ.get("MIGRATOR_PAGER", os.environ.get("PAGER", "less"))
    if not (enabled and sys.stdout.isatty()) or command.strip() in {"", "cat"}:
        sys.stdout.write(text)
        return
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX")}
    try:
        pager = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env=env)
    except OSError:
        sys.stdout.write(text)
        return
    assert pager.stdin is not None
    try:
        pager.stdin.write(text.encode("utf-8", "replace"))
        pager.stdin.close()
    except BrokenPipeError:  # the reader quit the pager early
        pass
    pager.wait()
