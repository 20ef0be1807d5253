"""`../shared` beside the checkout: real GitHub recordings and real workflows, read by some tests.

Without it those tests are skipped on a developer's machine. CI always has it, so there a missing
folder fails the run instead of silently skipping what it should prove.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def needs_shared(*parts: str) -> pytest.MarkDecorator:
    """A mark for a module (`pytestmark = needs_shared("github-reference")`) or a test."""
    path = SHARED.joinpath(*parts)
    if path.exists():
        return pytest.mark.shared
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must have {path}: the tests that read it would be skipped; lay out ../shared")
    return pytest.mark.skip(reason=f"{path} is not here (tests that read ../shared are skipped without it)")
