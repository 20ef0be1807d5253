"""A one-line progress bar on a TTY (stderr); silent otherwise, where logs tell the story."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressLine:
    def __init__(self, label: str, *, stream: TextIO | None = None, extra: Callable[[], str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._label = label
        self._extra = extra
        self._enabled = self._stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, done: int, total: int, item: str = "") -> None:
        now = time.monotonic()
        if not self._enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        width = 24
        filled = width * done // total if total else width
        rate = done / max(now - self._started, 1e-6)
        eta = f"{(total - done) / rate:,.0f}s left" if rate and total >= done else ""
        extra = f" · {self._extra()}" if self._extra else ""
        line = f"\r{self._label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {eta}{extra} {item[:40]}"
        self._stream.write(line.ljust(110)[:140])
        self._stream.flush()

    def close(self) -> None:
        if self._enabled:
            self._stream.write("\r" + " " * 140 + "\r")
            self._stream.flush()
