"""Reads in parallel (`--jobs`): the same records and the same request count as one at a time, never more requests
in flight than asked for, GitHub's per-minute points and its pauses honoured by every thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.github.listing import Edge, SegmentAsk, SegmentRead, chained_read, halves
from migrator.github.paging import GRAPHQL_POINTS_PER_MINUTE, ReadGate, ordered_map
from migrator.github.types import ListedRepo, RepoRecord
from migrator.sandbox.http import Request
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.github.support import ADMIN, Waits, make_client

ORG = "wide"
# Mixed case and digits: the two chains must meet in GitHub's name order, whatever it is.
NAMES = sorted(
    {f"{prefix}{i:02d}" for prefix in ("api-", "Lib", "svc_", "z") for i in range(9)} | {"a", "B", "c"}, key=str.lower
)


@pytest.fixture(scope="module")
def wide_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repos = {name: {".github/workflows/ci.yml": f"on: push  # {name}\n"} for name in NAMES}
    return write_seed(tmp_path_factory.mktemp("wide"), {ORG: repos})


@pytest.fixture
def wide(wide_seed: Path) -> Iterator[Sandbox]:
    with running_sandbox(wide_seed, clock=FakeClock()) as running:
        yield running


class InFlight:
    """Counts the API requests the sandbox is serving at once (wrapping its `handle`), optionally holding some
    of them until others arrive: concurrency shown by who was there together, not by timings."""

    def __init__(self, sandbox: Sandbox, hold: Callable[[int], threading.Barrier | None] | None = None) -> None:
        self.now = 0
        self.peak = 0
        self.seen = 0
        self.broken = False
        self._lock = threading.Lock()
        self._hold = hold
        real = sandbox.app.handle

        def handle(request: Request) -> Any:
            if request.path.startswith("/_sandbox/"):
                return real(request)
            with self._lock:
                self.now += 1
                self.seen += 1
                self.peak = max(self.peak, self.now)
                number = self.seen
            try:
                barrier = self._hold(number) if self._hold else None
                if barrier is not None:
                    try:
                        barrier.wait(timeout=20)  # a deadlock guard only: all parties arrive at once when parallel
                    except threading.BrokenBarrierError:
                        self.broken = True
                return real(request)
            finally:
                with self._lock:
                    self.now -= 1

        sandbox.app.handle = handle  # type: ignore[method-assign]


def _read(sandbox: Sandbox, jobs: int, page_size: int = 4) -> tuple[list[RepoRecord], Any]:
    client = make_client(sandbox.url, ADMIN, page_size=page_size, jobs=jobs)
    client.count_repositories(ORG)
    return list(client.repositories(ORG)), client.usage


def test_parallel_listing_reads_the_same_records_for_the_same_requests(wide: Sandbox) -> None:
    serial, serial_usage = _read(wide, 1)
    parallel, parallel_usage = _read(wide, 4)
    assert [r.full_name for r in serial] == [f"{ORG}/{n}" for n in NAMES]
    assert sorted(parallel, key=lambda r: r.full_name.lower()) == serial
    assert parallel_usage == serial_usage  # requests, points, retries: not one more


@pytest.mark.parametrize("page_size", [1, 4, 7, 50])
def test_every_page_size_and_count_splits_into_the_serial_pages(wide: Sandbox, page_size: int) -> None:
    serial, serial_usage = _read(wide, 1, page_size)
    parallel, parallel_usage = _read(wide, 3, page_size)
    assert sorted(r.full_name for r in parallel) == sorted(r.full_name for r in serial)
    assert parallel_usage.graphql_requests == serial_usage.graphql_requests


def test_the_listing_keeps_jobs_pages_in_flight_and_never_more(wide: Sandbox) -> None:
    # After the count (1) and both chains' first pages (2, 3), the look-ahead lets four pages go at once.
    barrier = threading.Barrier(4)
    counter = InFlight(wide, hold=lambda number: barrier if 4 <= number <= 7 else None)
    records, _ = _read(wide, 4)
    assert len(records) == len(NAMES)
    assert not counter.broken and counter.peak == 4


@pytest.mark.parametrize("jobs", [2, 5])
def test_by_name_reads_and_status_batches_respect_the_bound(wide: Sandbox, jobs: int) -> None:
    barrier = threading.Barrier(jobs)
    counter = InFlight(wide, hold=lambda number: barrier if number <= jobs else None)
    client = make_client(wide.url, ADMIN, page_size=2, jobs=jobs)
    listed = [ListedRepo(f"{ORG}/{n}", "main") for n in NAMES]
    records = list(client.repositories_named(ORG, listed))
    assert [r.full_name for r in records] == [item.full_name for item in listed]  # input order
    assert not counter.broken and counter.peak == jobs
    assert client.transport.gate.peak == jobs


def test_a_secondary_limit_in_one_thread_pauses_them_all(wide: Sandbox) -> None:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    wide.add_fault(
        {
            "match": {"method": "POST", "path_regex": "^/graphql$"},
            "times": 1,
            "response": {"status": 403, "headers": {"Retry-After": "7"}, "body": {"message": message}},
        }
    )
    waits = Waits()
    client = make_client(wide.url, ADMIN, page_size=4, jobs=4, waits=waits)
    assert len(list(client.repositories(ORG))) == len(NAMES)
    assert 7.0 in waits.seconds
    assert client.usage.retries == 1


# ---------------------------------------------------------------- the gate, on a fake clock


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_gate_keeps_graphql_inside_its_points_a_minute() -> None:
    gate, clock = ReadGate(4), Clock()
    for _ in range(GRAPHQL_POINTS_PER_MINUTE):
        with gate.slot("graphql", 1, clock=clock, sleep=clock.sleep):
            pass
    assert clock.slept == []
    with gate.slot("graphql", 1, clock=clock, sleep=clock.sleep):
        pass
    assert clock.slept == [60.0]  # the oldest point leaves the window


def test_one_request_at_a_time_is_left_to_githubs_answers_as_before() -> None:
    gate, clock = ReadGate(1), Clock()
    gate.hold(30, clock=clock)
    for _ in range(GRAPHQL_POINTS_PER_MINUTE + 1):
        with gate.slot("graphql", 1, clock=clock, sleep=clock.sleep):
            pass
    assert clock.slept == []


def test_a_hold_pauses_the_next_request_of_any_thread() -> None:
    gate, clock = ReadGate(4), Clock()
    gate.hold(30, clock=clock)
    with gate.slot("rest", 1, clock=clock, sleep=clock.sleep):
        pass
    assert clock.slept == [30.0]


def test_a_low_primary_budget_sends_one_request_at_a_time() -> None:
    gate, clock = ReadGate(4), Clock()
    gate.note_budget(remaining=20, cost=13)  # 20 points cannot pay for four pages of 13
    blocked: list[bool] = []
    with gate.slot("graphql", 1, clock=clock, sleep=clock.sleep):
        other = threading.Thread(target=lambda: blocked.append(gate._serial.acquire(blocking=False)))
        other.start()
        other.join()
    assert blocked == [False]  # a second request would wait for the first
    gate.note_budget(remaining=4_000, cost=13)
    one = gate.slot("graphql", 1, clock=clock, sleep=clock.sleep)
    two = gate.slot("graphql", 1, clock=clock, sleep=clock.sleep)
    with one, two:
        assert gate.in_flight == 2


def test_ordered_map_yields_in_input_order_and_runs_in_the_callers_context() -> None:
    import structlog

    structlog.contextvars.bind_contextvars(step="status")
    try:
        seen: list[Any] = []

        def call(item: int) -> int:
            seen.append(structlog.contextvars.get_contextvars().get("step"))
            return item * 2

        assert list(ordered_map(call, range(10), jobs=4)) == [i * 2 for i in range(10)]
        assert seen == ["status"] * 10
    finally:
        structlog.contextvars.unbind_contextvars("step")


# ---------------------------------------------------------------- the chains, against an org that changes


class Org:
    """A fake connection: positions are cursors (as in the sandbox); the names may change between reads."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.reads = 0
        self.change: Callable[[int], None] | None = None

    def read(self, ask: SegmentAsk) -> SegmentRead:
        self.reads += 1
        if self.change:
            self.change(self.reads)
        order = sorted(self.names) if ask.direction == "ASC" else sorted(self.names, reverse=True)
        begin = 0 if ask.cursor is None else order.index(ask.cursor) + 1
        got = order[begin : begin + ask.size]
        ahead = order[begin : begin + 100]
        return SegmentRead(
            records=tuple(RepoRecord(full_name=n, default_branch="main", head_oid=None) for n in got),
            count=len(got),
            last_name=got[-1] if got else None,
            edges={ask.start + i: Edge(name, name) for i, name in enumerate(ahead)},
        )


def _chained(org: Org, total: int) -> tuple[list[str], list[set[str]]]:
    gaps: list[set[str]] = []

    def fill(seen: set[str]) -> Iterator[RepoRecord]:
        gaps.append(set(seen))
        for name in sorted(org.names):
            if name.lower() not in seen:
                yield RepoRecord(full_name=name, default_branch="main", head_oid=None)

    names = [r.full_name for r in chained_read(org.read, total=total, segment=5, jobs=4, fill_gaps=fill)]
    return names, gaps


def test_the_chains_meet_exactly_on_a_still_org() -> None:
    org = Org([f"r{i:03d}" for i in range(47)])
    names, gaps = _chained(org, 47)
    assert sorted(names) == sorted(org.names) and len(names) == 47
    assert gaps == [] and org.reads == 10  # ceil(47 / 5): the serial page count
    assert halves(47, 5) == (25, 22)


def test_a_repository_created_while_reading_is_still_read_once() -> None:
    org = Org([f"r{i:03d}" for i in range(47)])
    org.change = lambda reads: org.names.append("r0105") if reads == 4 else None
    names, gaps = _chained(org, 47)
    assert sorted(names) == sorted(org.names) and len(gaps) == 1


def test_a_repository_deleted_while_reading_is_not_read_twice() -> None:
    org = Org([f"r{i:03d}" for i in range(47)])
    org.change = lambda reads: org.names.remove("r002") if reads == 5 else None
    names, _ = _chained(org, 47)
    assert len(names) == len(set(names))
    assert set(org.names) <= set(names)


def test_the_chained_page_query_is_valid_and_costs_what_the_serial_page_does() -> None:
    from graphql import parse

    from migrator.github import listing, queries
    from migrator.sandbox.graphql import query_cost, validate_document

    assert validate_document(listing.CHAINED) == []
    chained, serial = parse(listing.CHAINED), parse(queries.REPOSITORIES)
    for first in (1, 7, 50):
        variables = {"login": ORG, "first": first, "after": None, "direction": "DESC"}
        cost = query_cost(chained, chained.definitions[0], variables).points  # type: ignore[arg-type]
        assert cost == query_cost(serial, serial.definitions[0], variables).points  # type: ignore[arg-type]


def test_the_chained_page_declares_every_variable_the_serial_page_does() -> None:
    """If the page query's fields ever need a variable (say, the campaign's branch), the chained page needs it
    too, and `GitHubClient._read_segment` must pass it as `_repository_page` does."""
    from graphql import OperationDefinitionNode, parse

    from migrator.github import listing, queries

    def declared(document: str) -> set[str]:
        operation = parse(document).definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        return {v.variable.name.value for v in operation.variable_definitions or ()}

    assert declared(listing.CHAINED) == declared(queries.REPOSITORIES) | {"direction"}


def test_pages_keep_coming_while_the_consumer_is_busy_with_the_first() -> None:
    org = Org([f"r{i:03d}" for i in range(200)])
    read_ahead = threading.Event()
    org.change = lambda reads: read_ahead.set() if reads >= 8 else None
    records = chained_read(org.read, total=200, segment=5, jobs=4, fill_gaps=lambda seen: iter(()))
    first = next(records)  # the consumer takes one record, then is busy with it
    assert read_ahead.wait(timeout=20)  # a deadlock guard: pages were launched without the consumer asking
    assert len({first.full_name, *(r.full_name for r in records)}) == 200
