"""What a rule is. Rules are pure: a repository context in, findings out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from migrator.analysis.context import RepoContext
from migrator.model import Finding


@dataclass(frozen=True)
class Rule:
    rule_id: str
    summary: str
    check: Callable[[RepoContext], list[Finding]]
    opt_in: bool = False  # runs only when asked for by id (`--rule ID`)
