"""The golden fixtures under tests/rules/golden, read as {path: bytes} trees for any test that needs a repo."""

from __future__ import annotations

from pathlib import Path

GOLDEN = Path(__file__).parent / "rules" / "golden"


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def golden_tree(case: str) -> dict[str, bytes]:
    """The `before` tree of a golden case."""
    return read_tree(GOLDEN / case / "before")
