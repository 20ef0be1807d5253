"""Paging and pacing of reads: the GraphQL page size (halved when GitHub times out on a page, grown back after a
run of good pages), the `ReadGate` every request passes (how many are in flight, GitHub's secondary-limit points
per minute, pauses GitHub asked for), and `ordered_map`, which reads batches concurrently but hands back their
answers in input order."""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# GitHub's documented limits (docs.github.com, "Rate limits for the REST API" / "for the GraphQL API").
MAX_CONCURRENT = 100  # requests in flight at once, REST and GraphQL together
GRAPHQL_POINTS_PER_MINUTE = 2_000  # secondary limit: a query is 1 point, a mutation 5
REST_POINTS_PER_MINUTE = 900  # secondary limit: a GET is 1 point, a write 5
WINDOW = 60.0


@dataclass
class PageSize:
    size: int
    maximum: int
    grow_after: int = 3  # good pages in a row before doubling
    _streak: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def can_shrink(self) -> bool:
        return self.size > 1

    def shrink(self) -> None:
        with self._lock:
            self.size = max(1, self.size // 2)
            self._streak = 0

    def succeeded(self) -> None:
        with self._lock:
            self._streak += 1
            if self.size < self.maximum and self._streak >= self.grow_after:
                self.size = min(self.maximum, self.size * 2)
                self._streak = 0


class ReadGate:
    """What every request passes before it is sent, from any thread.

    - at most `concurrency` requests in flight (never more than GitHub's 100);
    - GitHub's secondary-limit points per minute (GraphQL 2,000, REST 900), a sliding window: a request that would
      exceed it waits until the oldest points leave the window;
    - a secondary or primary limit answer in one thread (`hold`) pauses every thread for the wait GitHub asked;
    - when the primary budget left (GraphQL `rateLimit.remaining`) would not pay for every request in flight
      (`note_budget`), requests go one at a time, so that one request, not all of them, meets the limit.

    Waits go through `sleep` and `clock`, the retry policy's, so tests run on a fake clock. With one request at a
    time (`concurrency` 1, the writers' and every serial read's) the gate only counts: the one thread already waits
    what GitHub asks, as it always did.
    """

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = max(1, min(MAX_CONCURRENT, concurrency))
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._serial = threading.Lock()
        self._lock = threading.Lock()
        self._spent: dict[str, deque[tuple[float, int]]] = {"graphql": deque(), "rest": deque()}
        self._until = 0.0
        self._low_budget = False
        self.in_flight = 0
        self.peak = 0  # the most requests in flight at once, for tests and benches

    def hold(self, seconds: float, *, clock: Callable[[], float]) -> None:
        if self.concurrency == 1:
            return
        with self._lock:
            self._until = max(self._until, clock() + seconds)

    def note_budget(self, remaining: int | None, cost: int) -> None:
        if remaining is not None:
            self._low_budget = remaining < max(1, cost) * self.concurrency

    @contextmanager
    def slot(
        self, resource: str, points: int, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> Iterator[None]:
        self._wait(resource, points, clock, sleep)
        serial = self._serial if self._low_budget and self.concurrency > 1 else None
        if serial is not None:
            serial.acquire()
        self._slots.acquire()
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            self._slots.release()
            if serial is not None:
                serial.release()

    def _wait(self, resource: str, points: int, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        """One wait at most (never a loop: a fake clock that does not move must not hang a test)."""
        if self.concurrency == 1:
            return
        budget = GRAPHQL_POINTS_PER_MINUTE if resource == "graphql" else REST_POINTS_PER_MINUTE
        with self._lock:
            now = clock()
            spent = self._spent[resource]
            while spent and spent[0][0] <= now - WINDOW:
                spent.popleft()
            wait = max(0.0, self._until - now)
            total = sum(p for _, p in spent)
            if spent and total + points > budget:
                wait = max(wait, spent[0][0] + WINDOW - now)
            spent.append((now + wait, points))
        if wait > 0:
            sleep(wait)


def ordered_map(call: Callable[[T], R], items: Iterable[T], *, jobs: int) -> Iterator[R]:
    """`call(item)` for every item, up to `jobs` at once in threads, yielded in input order.

    Each call runs in a copy of the caller's context (structlog's bound variables go along). A failure is raised
    when its answer's turn comes; the calls not yet started are then cancelled.
    """
    if jobs <= 1:
        yield from map(call, items)
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="migrator-read")
    window: deque[Future[R]] = deque()
    try:
        for item in items:
            window.append(pool.submit(contextvars.copy_context().run, call, item))
            if len(window) >= jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
