"""Shards: split one organisation between N tokens (or App installations) by a stable hash of the repo name.

`K/N` is 1-based, so a GitHub Actions matrix `shard: [1, 2, 3, 4]` reads naturally. The hash is sha256 of
the lower-cased `org/repo`: the same on every machine, every Python and every run (Python's `hash` is not).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from migrator.errors import UsageError

MAX_SHARDS = 256
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True, order=True)
class Shard:
    index: int  # 1..count
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS or not 1 <= self.index <= self.count:
            raise UsageError(
                f"shard {self.index}/{self.count} is out of range; use K/N with 1 <= K <= N <= {MAX_SHARDS}"
            )

    @classmethod
    def parse(cls, spec: str) -> Shard:
        match = _SPEC.fullmatch(spec)
        if not match:
            raise UsageError(f"--shard {spec!r} is not K/N (e.g. 2/4: the second of four shards)")
        return cls(int(match[1]), int(match[2]))

    def contains(self, full_name: str) -> bool:
        return shard_index(full_name, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def slug(self) -> str:
        """For file names: `shard-2-of-4`."""
        return f"shard-{self.index}-of-{self.count}"


def shard_index(full_name: str, count: int) -> int:
    digest = hashlib.sha256(full_name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1
