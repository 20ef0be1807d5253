"""GitHub's REST endpoints that migrator (and PyGithub) use, answered from the store: one module per resource.

Importing a module registers its routes. Routes of different modules never match the same path, so their order
does not matter; within a module the first route that matches wins.
"""

from __future__ import annotations

from migrator.sandbox.rest import (
    actions,  # noqa: F401
    branches,  # noqa: F401
    checks,  # noqa: F401
    contents,  # noqa: F401
    git,  # noqa: F401
    issues,  # noqa: F401  (before pulls: its GET …/issues/N falls back to a pull request's)
    packages,  # noqa: F401
    pulls,  # noqa: F401
    releases,  # noqa: F401
    repos,  # noqa: F401
    reviews,  # noqa: F401
    rulesets,  # noqa: F401
    secrets,  # noqa: F401
)
from migrator.sandbox.rest.core import Ctx, dispatch

__all__ = ["Ctx", "dispatch"]
