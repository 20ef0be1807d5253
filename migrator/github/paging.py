"""The GraphQL page size: halved when GitHub times out on a page, grown back after a run of good pages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PageSize:
    size: int
    maximum: int
    grow_after: int = 3  # good pages in a row before doubling
    _streak: int = 0

    @property
    def can_shrink(self) -> bool:
        return self.size > 1

    def shrink(self) -> None:
        self.size = max(1, self.size // 2)
        self._streak = 0

    def succeeded(self) -> None:
        self._streak += 1
        if self.size < self.maximum and self._streak >= self.grow_after:
            self.size = min(self.maximum, self.size * 2)
            self._streak = 0
