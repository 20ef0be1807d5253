"""The golden fixtures under tests/rules/golden, read as {path: bytes} trees for any test that needs a repo."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

GOLDEN = Path(__file__).parent / "rules" / "golden"


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def golden_tree(case: str) -> dict[str, bytes]:
    """The `before` tree of a golden case."""
    return read_tree(GOLDEN / case / "before")


def reference_org_seed(folder: Path, repos: Iterable[str], token: str) -> Path:
    """A sandbox seed: org `acme` whose repositories each hold the reference golden tree, with the PAT secret the
    fix needs and one full-power token."""
    from migrator.sandbox.testing import write_seed

    return write_seed(
        folder,
        {"acme": {name: golden_tree("reference") for name in repos}},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {token: "full"}}},
    )
