"""GitHub's rate limits: primary budgets per token and resource, secondary limits on writes."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from migrator.sandbox.settings import Settings

WINDOW = 3600.0
SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
PRIMARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)


@dataclass(frozen=True)
class Budget:
    resource: str
    limit: int
    used: int
    reset: int  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(self.used),
            "X-RateLimit-Resource": self.resource,
        }

    def as_json(self) -> dict[str, int]:
        return {"limit": self.limit, "used": self.used, "remaining": self.remaining, "reset": self.reset}


class Limits:
    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._primary: dict[tuple[str, str], tuple[float, int]] = {}  # -> (window start, used)
        self._writes: dict[str, deque[float]] = {}

    def limit_for(self, resource: str) -> int:
        return self._settings.graphql_limit if resource == "graphql" else self._settings.core_limit

    def budget(self, token: str, resource: str) -> Budget:
        with self._lock:
            start, used = self._window(token, resource)
            return Budget(resource, self.limit_for(resource), used, math.ceil(start + WINDOW))

    def spend(self, token: str, resource: str, amount: int) -> Budget:
        with self._lock:
            start, used = self._window(token, resource)
            self._primary[(token, resource)] = (start, used + amount)
            return Budget(resource, self.limit_for(resource), used + amount, math.ceil(start + WINDOW))

    def _window(self, token: str, resource: str) -> tuple[float, int]:
        now = self._clock()
        start, used = self._primary.get((token, resource), (now, 0))
        if now >= start + WINDOW:
            start, used = now, 0
        self._primary[(token, resource)] = (start, used)
        return start, used

    def take_write(self, token: str) -> float | None:
        """Count a content-creating request; the seconds to wait when over a secondary limit."""
        with self._lock:
            now = self._clock()
            stamps = self._writes.setdefault(token, deque())
            while stamps and stamps[0] <= now - WINDOW:
                stamps.popleft()
            last_minute = [t for t in stamps if t > now - 60]
            if len(last_minute) >= self._settings.secondary_per_minute:
                return max(last_minute[0] + 60 - now, 1.0)
            if len(stamps) >= self._settings.secondary_per_hour:
                return max(stamps[0] + WINDOW - now, 1.0)
            stamps.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._primary.clear()
            self._writes.clear()
