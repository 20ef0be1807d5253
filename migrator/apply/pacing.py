"""Pacing for content-creating writes: a token bucket under GitHub's secondary limits.

GitHub allows about 80 content-creating requests a minute and 500 an hour;
going past either gets a 403 and a cool-down. The defaults stay under both and
keep writes at least a second apart. `sleep` and `clock` are injectable so
tests run instantly.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from migrator.apply.ports import Throttled
from migrator.errors import UsageError

DEFAULT_MAX_WAIT = 900.0  # `--max-wait`: the longest migrator waits when GitHub asks it to


class WaitTooLong(Throttled):
    """GitHub asked for a wait longer than `--max-wait` (a long Retry-After, a reset far ahead, clock skew)."""


def resume_hint(wait: float, *, now: datetime | None = None) -> str:
    """When to run again, in words."""
    at = (now or datetime.now(UTC)) + timedelta(seconds=max(wait, 0.0))
    return f"run the same command again after {at:%Y-%m-%d %H:%M} UTC to resume"


def too_long(wait: float, max_wait: float, what: str = "GitHub asked to wait") -> WaitTooLong:
    return WaitTooLong(
        f"{what} {wait:,.0f} s, over --max-wait {max_wait:,.0f} s; stopped here: {resume_hint(wait)}", wait=wait
    )


@dataclass(frozen=True, kw_only=True)
class PaceSettings:
    per_minute: int = 70
    per_hour: int = 450
    min_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.per_hour < 1 or not self.min_interval >= 0:
            raise UsageError(
                f"pacing needs --per-minute and --per-hour of at least 1 and --min-interval of 0 or more "
                f"(got {self.per_minute}, {self.per_hour}, {self.min_interval:g})"
            )

    def ceiling_per_second(self) -> float:
        """The sustained rate these settings allow (the slowest of the three constraints)."""
        return min(self.per_minute / 60, self.per_hour / 3600, 1 / self.min_interval if self.min_interval else 1e9)


def add_pacing_arguments(parser: Any) -> None:
    """`--per-minute`, `--per-hour`, `--min-interval` and `--max-wait`, for the commands that make
    content-creating writes (apply, merge): an argparse parser or argument group."""
    defaults = PaceSettings()
    parser.add_argument(
        "--per-minute", type=int, default=defaults.per_minute, help=f"at most so many a minute ({defaults.per_minute})"
    )
    parser.add_argument(
        "--per-hour", type=int, default=defaults.per_hour, help=f"at most this many an hour ({defaults.per_hour})"
    )
    parser.add_argument(
        "--min-interval",
        type=float,
        default=defaults.min_interval,
        metavar="SECONDS",
        help=f"at least this long between two ({defaults.min_interval:g})",
    )
    add_max_wait_argument(parser)


def pace_settings(args: Any) -> PaceSettings:
    """What `add_pacing_arguments` parsed."""
    return PaceSettings(per_minute=args.per_minute, per_hour=args.per_hour, min_interval=args.min_interval)


def add_max_wait_argument(parser: Any) -> None:
    """`--max-wait SECONDS` for apply and rollback (an argparse parser or argument group)."""
    parser.add_argument(
        "--max-wait",
        type=float,
        default=DEFAULT_MAX_WAIT,
        metavar="SECONDS",
        help=f"the longest wait for GitHub's limits ({DEFAULT_MAX_WAIT:g}); beyond it a repository ends `throttled`",
    )


class _CapsWaits(Protocol):
    def cap_waits(self, seconds: float) -> None: ...


W = TypeVar("W", bound=_CapsWaits)


def cap_waits(client: W, seconds: float) -> W:
    """The client's read retry waits no longer than `seconds` either."""
    client.cap_waits(seconds)
    return client


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # a module-level seam: tests replace it without touching other threads' time.sleep


@dataclass
class Pacer:
    """Paces writes (its own waits are bounded by its hour window and not capped) and waits out what GitHub
    asks for, up to `max_wait`: a longer wait raises `WaitTooLong`, and every later write is refused the same
    way until that time has passed, so one long limit does not cost a request per repository."""

    settings: PaceSettings = field(default_factory=PaceSettings)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] | None = None
    max_wait: float = DEFAULT_MAX_WAIT
    on_wait: Callable[[float], None] | None = None  # told before every wait (the progress line shows it)
    _recent: deque[float] = field(default_factory=deque)
    writes: int = 0
    waited: float = 0.0
    waiting: float = 0.0  # the wait in progress, in seconds (0: none)
    _blocked_until: float = 0.0

    def __post_init__(self) -> None:
        if not self.max_wait >= 0:
            raise UsageError(f"--max-wait must be 0 seconds or more (got {self.max_wait:g})")

    def blocked_for(self) -> float:
        """Seconds until GitHub accepts writes again, as far as a refused long wait told us (0: not blocked)."""
        return max(self._blocked_until - self.clock(), 0.0)

    def block(self, seconds: float) -> None:
        """GitHub asked for `seconds` (over `max_wait`): remember it, so later writes stop at once."""
        self._blocked_until = max(self._blocked_until, self.clock() + seconds)

    def check_blocked(self) -> None:
        """Raise `WaitTooLong` if a refused long wait is still running."""
        left = self.blocked_for()
        if left > self.max_wait:
            raise too_long(left, self.max_wait, "GitHub's limit resets in")

    def acquire(self) -> None:
        """Block until one more content-creating write fits under every limit."""
        left = self.blocked_for()
        if left > 0:
            self.cool_down(left)
        while True:
            delay = self._delay(self.clock())
            if delay <= 0:
                break
            self._wait(delay)
        self._recent.append(self.clock())
        self.writes += 1

    def cool_down(self, seconds: float) -> None:
        """GitHub said to wait (Retry-After, x-ratelimit-reset): wait, whatever the bucket thinks, but never
        longer than `max_wait` (`WaitTooLong`)."""
        if seconds > self.max_wait:
            self.block(seconds)
            raise too_long(seconds, self.max_wait)
        self._wait(max(seconds, 0.0))

    def eta(self, remaining_writes: int) -> float:
        """Seconds the pacing alone needs for that many more writes. Each window lets through what it has room
        for at once; the k-th write past that room waits until the k-th oldest write in the window ages out."""
        if remaining_writes <= 0:
            return 0.0
        now = self.clock()
        bounds = [remaining_writes * self.settings.min_interval]
        for window, limit in ((60.0, self.settings.per_minute), (3600.0, self.settings.per_hour)):
            inside = sorted(t for t in self._recent if now - t < window)
            extra = remaining_writes - (limit - len(inside))
            if extra <= 0:
                continue
            full, part = divmod(extra - 1, limit)
            frees = inside[part] + window - now if part < len(inside) else 0.0
            bounds.append(frees + full * window)
        return max(bounds)

    def remember(self, ages: list[float]) -> None:
        """Writes an earlier run made `ages` seconds ago count against this run's windows too: GitHub's
        secondary limits do not restart with the process (a canary, then the rest; Ctrl-C, then resume)."""
        now = self.clock()
        for age in sorted((a for a in ages if 0 <= a < 3600), reverse=True):
            self._recent.append(now - age)

    def describe(self, remaining_writes: int) -> str:
        """For the progress line: the ETA, or the wait in progress."""
        if self.waiting > 0:
            return f"waiting {self.waiting:,.0f}s for GitHub's limits"
        return f"ETA {self.eta(max(remaining_writes, 0)):,.0f}s"

    def _delay(self, now: float) -> float:
        while self._recent and now - self._recent[0] >= 3600:
            self._recent.popleft()
        delays = [0.0]
        if self._recent:
            delays.append(self._recent[-1] + self.settings.min_interval - now)
        for window, limit in ((60.0, self.settings.per_minute), (3600.0, self.settings.per_hour)):
            inside = [t for t in self._recent if now - t < window]
            if len(inside) >= limit:
                delays.append(inside[len(inside) - limit] + window - now)
        return max(delays)

    def _wait(self, seconds: float) -> None:
        self.waited += seconds
        self.waiting = seconds
        try:
            if self.on_wait is not None and seconds >= 1:
                self.on_wait(seconds)
            (self.sleep or _sleep)(seconds)
        finally:
            self.waiting = 0.0
