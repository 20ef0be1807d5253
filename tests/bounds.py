"""Bounds for hostile-input tests, without clocks: a hang guard and a tracemalloc peak."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
MiB = 1024 * 1024
MEMORY_BOUND = 50 * MiB  # per hostile repository
HANG_GUARD_SECONDS = 60  # generous: a guard against hangs, not a timing assertion


def guarded(work: Callable[[], T]) -> T:
    """Run work in a thread; fail (rather than hang) if it never returns."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_SECONDS)
    assert not thread.is_alive(), f"still running after {HANG_GUARD_SECONDS} s: unbounded work"
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Peak bytes allocated inside the block, by tracemalloc."""
    result = [0]
    tracemalloc.start()
    try:
        yield result
    finally:
        result[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
