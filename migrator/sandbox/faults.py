"""Injected faults, the request log and the counters behind `/_sandbox/`."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Fault:
    id: int
    method: str | None
    path_regex: re.Pattern[str] | None
    body_regex: re.Pattern[str] | None
    status: int
    headers: tuple[tuple[str, str], ...]
    body: Any
    times: int | None  # None: forever
    after_apply: bool
    rate: float | None = None  # fire on this share of the matching requests (None: on every one)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)  # seeded by `seed`

    def matches(self, method: str, path: str, body: str) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path_regex is None or self.path_regex.search(path) is not None)
            and (self.body_regex is None or self.body_regex.search(body) is not None)
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match": {
                "method": self.method,
                "path_regex": self.path_regex.pattern if self.path_regex else None,
                "body_regex": self.body_regex.pattern if self.body_regex else None,
            },
            "response": {"status": self.status, "headers": dict(self.headers), "body": self.body},
            "times": self.times,
            "after_apply": self.after_apply,
            "rate": self.rate,
        }


def _pattern(value: Any) -> re.Pattern[str] | None:
    return re.compile(str(value)) if value else None


def parse_fault(fault_id: int, raw: dict[str, Any]) -> Fault:
    """Raises ValueError (or re.error) on a malformed fault."""
    match = raw.get("match") or {}
    response = raw.get("response") or {}
    if not isinstance(match, dict) or not isinstance(response, dict):
        raise ValueError("match and response must be objects")
    times = raw.get("times", 1)
    rate = raw.get("rate")
    if rate is not None and not 0 <= float(rate) <= 1:
        raise ValueError("rate must be between 0 and 1")
    return Fault(
        id=fault_id,
        method=str(match["method"]).upper() if match.get("method") else None,
        path_regex=_pattern(match.get("path_regex")),
        body_regex=_pattern(match.get("body_regex")),
        status=int(response.get("status", 500)),
        headers=tuple((str(k), str(v)) for k, v in dict(response.get("headers") or {}).items()),
        body=response.get("body"),
        times=None if times is None else int(times),
        after_apply=bool(raw.get("after_apply", False)),
        rate=None if rate is None else float(rate),
        rng=random.Random(raw.get("seed", fault_id)),
    )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next = 1

    def add(self, raw: dict[str, Any]) -> Fault:
        with self._lock:
            fault = parse_fault(self._next, raw)
            self._next += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str, body: str) -> Fault | None:
        """The first matching fault, in order of registration, counting one use of it."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if not fault.matches(method, path, body):
                    continue
                if fault.rate is not None and fault.rng.random() >= fault.rate:
                    continue  # this one does not fire; a later fault still may
                if fault.times is not None:
                    if fault.times <= 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = replace(fault, times=fault.times - 1)
                return fault
            return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    operation: str | None = None  # GraphQL operationName
    fault: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "operation": self.operation,
            "fault": self.fault,
        }


class Recorder:
    """The request log and counters. Control requests are not recorded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: list[LoggedRequest] = []
        self._counts: Counter[str] = Counter()
        self._methods: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._graphql_points = 0

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)
            self._counts["requests"] += 1
            self._methods[entry.method] += 1
            self._statuses[str(entry.status)] += 1

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def spend_points(self, points: int) -> None:
        with self._lock:
            self._graphql_points += points

    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._counts["requests"],
                "by_method": dict(self._methods),
                "by_status": dict(self._statuses),
                "graphql_queries": self._counts["graphql_queries"],
                "graphql_mutations": self._counts["graphql_mutations"],
                "graphql_points": self._graphql_points,
                "secondary_limited": self._counts["secondary_limited"],
                "primary_limited": self._counts["primary_limited"],
                "faults_fired": self._counts["faults_fired"],
            }
