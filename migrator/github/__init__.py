"""The GitHub adapter: the only package that talks to GitHub (through PyGithub).

Build a reader with `connect(...)`; it yields plain values from `migrator.github.types`.
PyGithub is imported only when `connect`/`GitHubClient` is first used, so importing the
types (as the planner does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migrator.github.client import ClientSettings, GitHubClient, connect

__all__ = ["ClientSettings", "GitHubClient", "connect"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("migrator.github.client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
