"""GitHub's REST endpoints that migrator (and PyGithub) use, answered from the store: one module per resource.

Routes are tried in the order they were registered, so the resource modules are imported in a fixed order.
"""

from __future__ import annotations

from migrator.sandbox.rest import (
    branches,  # noqa: F401
    checks,  # noqa: F401
    contents,  # noqa: F401
    git,  # noqa: F401
    pulls,  # noqa: F401
    repos,  # noqa: F401  (registers its routes)
)
from migrator.sandbox.rest.core import Ctx, dispatch

__all__ = ["Ctx", "dispatch"]
