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

from migrator.errors import UsageError


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


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # a module-level seam: tests replace it without touching other threads' time.sleep


@dataclass
class Pacer:
    settings: PaceSettings = field(default_factory=PaceSettings)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] | None = None
    _recent: deque[float] = field(default_factory=deque)
    writes: int = 0
    waited: float = 0.0

    def acquire(self) -> None:
        """Block until one more content-creating write fits under every limit."""
        while True:
            delay = self._delay(self.clock())
            if delay <= 0:
                break
            self._wait(delay)
        self._recent.append(self.clock())
        self.writes += 1

    def cool_down(self, seconds: float) -> None:
        """GitHub said to wait (Retry-After, x-ratelimit-reset): wait, whatever the bucket thinks."""
        self._wait(max(seconds, 0.0))

    def eta(self, remaining_writes: int) -> float:
        """Seconds the pacing alone needs for that many more writes: bursts fit in what each window has left."""
        if remaining_writes <= 0:
            return 0.0
        now = self.clock()
        bounds = [remaining_writes * self.settings.min_interval]
        for window, limit in ((60.0, self.settings.per_minute), (3600.0, self.settings.per_hour)):
            room = limit - sum(1 for t in self._recent if now - t < window)
            bounds.append(max(remaining_writes - room, 0) * window / limit)
        return max(bounds)

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
        (self.sleep or _sleep)(seconds)
