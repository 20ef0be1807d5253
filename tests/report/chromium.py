"""Headless Chromium (Debian's `chromium` package) as a person's browser: a screenshot, the DOM it built, and
its console. Skipped where Chromium is absent, except in CI, where `.ci/run` installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]  # the page's console messages (chromium's CONSOLE log lines)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def _run(binary: str, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="migrator-chromium-") as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra,
             page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )


def render(page: Path, screenshot: Path, size: str = "1200,1400") -> Rendered:
    binary = chromium()
    shot = _run(binary, page, f"--screenshot={screenshot}", f"--window-size={size}")
    dom = _run(binary, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in (shot.stderr + dom.stderr).splitlines() if ":CONSOLE" in line]
    return Rendered(dom.stdout, console)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
