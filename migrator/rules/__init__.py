"""The rule registry: every rule migrator runs, by id, in the order they run."""

from __future__ import annotations

from migrator.rules import redundant_docker, token_mismatch
from migrator.rules.base import Rule

REGISTRY: dict[str, Rule] = {
    token_mismatch.RULE.rule_id: token_mismatch.RULE,
    redundant_docker.RULE.rule_id: redundant_docker.RULE,
}
