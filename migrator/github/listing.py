"""Reading an organisation's repositories with several pages in flight, for the serial read's request count.

The org's repository connection is cursor-paginated, so its pages cannot simply be asked for at once. Two things
make it concurrent anyway, without a single extra request:

- **two chains:** one reads by name ascending from the start, the other descending from the end; with the
  count known, each takes its half (in whole pages), so together they make exactly the pages one chain would;
- **a look-ahead:** every page asks, beside its 50 repositories, for the next 100 cursors (names only, one more
  connection, no more points in practice). A page's answer thus says where the page after next begins, so each
  chain keeps two pages in flight: four with both chains.

Pages are launched as soon as the page that says where they begin has been read (not when the consumer gets to
it), and handed on in the order they were asked for. If the org changed
while it was read (the chains do not meet exactly, or a page does not end where the next one begins), the names
are listed once more (100 a request) and what was missed is read by name: correct, at a few extra requests,
only then.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from migrator.github.queries import REPOSITORY_FIELDS
from migrator.github.types import RepoRecord
from migrator.log import get_logger

LOOK_AHEAD = 100  # cursors asked for beside each page: GitHub's largest `first`

CHAINED = (
    """
query MigratorRepositoriesChained($login: String!, $first: Int!, $after: String, $direction: OrderDirection!,
                                  $campaignRef: String!, $campaignBranch: String!) {
  organization(login: $login) {
    repositories(first: $first, after: $after, orderBy: {field: NAME, direction: $direction}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...MigratorRepository }
    }
    ahead: repositories(first: 100, after: $after, orderBy: {field: NAME, direction: $direction}) {
      edges { cursor node { nameWithOwner } }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""
    + REPOSITORY_FIELDS
)


@dataclass(frozen=True)
class Edge:
    cursor: str
    name: str


@dataclass(frozen=True)
class SegmentAsk:
    direction: str  # ASC or DESC
    cursor: str | None  # read after this
    start: int  # index of the first repository in the chain
    size: int


@dataclass(frozen=True)
class SegmentRead:
    """What one segment (a page's worth of one chain, maybe asked for in smaller pieces) read."""

    records: tuple[RepoRecord, ...]
    count: int  # nodes GitHub returned
    last_name: str | None
    edges: dict[int, Edge]  # look-ahead cursors, by index in the chain


ReadSegment = Callable[[SegmentAsk], SegmentRead]


@dataclass
class Chain:
    direction: str
    quota: int  # repositories this chain reads
    edges: dict[int, Edge] = field(default_factory=dict)
    launched: int = 0  # repositories asked for so far
    expected: dict[int, str] = field(default_factory=dict)  # segment start -> the name its cursor stood after
    ends: dict[int, tuple[int, str | None]] = field(default_factory=dict)  # segment end -> (count, last name)

    def next_segment(self, size: int) -> tuple[int, int, str | None] | None:
        """(start, size, cursor) of the next segment, when its cursor is known."""
        start = self.launched
        if start >= self.quota:
            return None
        cursor: str | None = None
        if start:
            edge = self.edges.get(start - 1)
            if edge is None:
                return None
            cursor = edge.cursor
            self.expected[start] = edge.name
        count = min(size, self.quota - start)
        self.launched += count
        return start, count, cursor

    def learn(self, start: int, size: int, read: SegmentRead) -> None:
        for index, edge in read.edges.items():
            self.edges.setdefault(index, edge)
        self.ends[start + size] = (read.count if read.count == size else -1, read.last_name)

    def contiguous(self) -> bool:
        if self.launched != self.quota or any(count < 0 for count, _ in self.ends.values()):
            return False
        return all(self.ends.get(start, (0, None))[1] == name for start, name in self.expected.items())

    @property
    def last_name(self) -> str | None:
        return self.ends.get(self.quota, (0, None))[1]


def halves(total: int, segment: int) -> tuple[int, int]:
    """How many repositories each chain reads: whole pages for the ascending one, the rest for the other."""
    pages = -(-total // segment)
    ascending = min(total, segment * -(-pages // 2))
    return ascending, total - ascending


class _Dispatcher:
    """Launches segments as soon as a finished one tells where the next begin (from the worker thread that finished
    it), not when the consumer gets to it: the consumer's rule checks never hold a page back. At most `jobs` pages
    are in flight, and at most `jobs` more wait, read, for the consumer."""

    def __init__(self, read: ReadSegment, chains: tuple[Chain, Chain], *, segment: int, jobs: int) -> None:
        self._read = read
        self._chains = chains
        self._segment = segment
        self._jobs = jobs
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="migrator-list")
        self._context = contextvars.copy_context()  # the caller's: structlog's bound variables go along
        self._lock = threading.Lock()
        self._flying = 0
        self._stopped = False
        self.order: deque[tuple[threading.Event, Future[SegmentRead]]] = deque()  # in the order asked; the event:
        # its callback (learn, launch what it made known) is done

    def launch(self) -> None:
        launched = []
        with self._lock:
            progressed = True
            while progressed and not self._stopped:
                progressed = False
                for chain in self._chains:
                    if self._flying >= self._jobs or len(self.order) >= 2 * self._jobs:
                        break
                    planned = chain.next_segment(self._segment)
                    if planned is None:
                        continue
                    start, size, cursor = planned
                    ask = SegmentAsk(chain.direction, cursor, start, size)
                    future = self._pool.submit(self._context.copy().run, self._read, ask)
                    ready = threading.Event()
                    self._flying += 1
                    self.order.append((ready, future))
                    launched.append((chain, start, size, ready, future))
                    progressed = True
        for chain, start, size, ready, future in launched:  # outside the lock: a finished future calls back at once
            future.add_done_callback(partial(self._finished, chain, start, size, ready))

    def _finished(
        self, chain: Chain, start: int, size: int, ready: threading.Event, future: Future[SegmentRead]
    ) -> None:
        try:
            with self._lock:
                self._flying -= 1
                if future.cancelled() or future.exception() is not None:
                    self._stopped = True  # the consumer raises it when its turn comes
                    return
                chain.learn(start, size, future.result())
            self.launch()
        finally:
            ready.set()

    def close(self) -> None:
        with self._lock:
            self._stopped = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def chained_read(
    read: ReadSegment,
    *,
    total: int,
    segment: int,
    jobs: int,
    fill_gaps: Callable[[set[str]], Iterator[RepoRecord]],
) -> Iterator[RepoRecord]:
    """Every repository once, up to `jobs` pages in flight; `fill_gaps(seen)` reads what a changing org hid. Pages
    are handed on in the order they were asked for."""
    ascending, descending = halves(total, segment)
    chains = (Chain("ASC", ascending), Chain("DESC", descending))
    dispatcher = _Dispatcher(read, chains, segment=segment, jobs=jobs)
    seen: set[str] = set()
    try:
        dispatcher.launch()
        while dispatcher.order:
            ready, future = dispatcher.order[0]
            ready.wait()
            got = future.result()
            dispatcher.order.popleft()
            dispatcher.launch()  # room for one more read page
            for record in got.records:
                key = record.full_name.lower()
                if key not in seen:
                    seen.add(key)
                    yield record
    finally:
        dispatcher.close()
    if not _met(chains):
        get_logger(step="list").warning(
            "github.listing_changed", detail="the org changed while it was read; listing its names again"
        )
        yield from fill_gaps(seen)


def _met(chains: tuple[Chain, Chain]) -> bool:
    """Both chains read all they should, each page began where the last ended, and the chains met exactly."""
    ascending, descending = chains
    if not (ascending.contiguous() and descending.contiguous()):
        return False
    after = ascending.edges.get(ascending.quota)
    if descending.quota == 0:
        return after is None
    return after is not None and after.name == descending.last_name
