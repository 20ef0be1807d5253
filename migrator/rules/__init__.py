"""The rule registry: every rule migrator runs, by id, in the order they run.

The built-in rules come first. Rules from other packages follow, in name order: a package declares a `Rule`
(`migrator.rules.base.Rule`: an id, a one-line summary, and a pure `check(RepoContext) -> list[Finding]`)
under the entry point group `migrator.rules`, e.g. in its pyproject.toml:

    [project.entry-points."migrator.rules"]
    old-checkout = "my_rules:RULE"

A plugin that fails to load, is not a `Rule`, or reuses a taken id is left out with a warning on stderr,
so one broken package never stops migrator.

A rule with `opt_in=True` (the built-in `release-app-token`) runs only when named with `--rule`.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from migrator.log import get_logger
from migrator.rules import redundant_docker, release_app_token, token_mismatch
from migrator.rules.base import Rule

ENTRY_POINT_GROUP = "migrator.rules"
BUILTIN: tuple[Rule, ...] = (token_mismatch.RULE, redundant_docker.RULE, release_app_token.RULE)


def load_registry() -> dict[str, Rule]:
    registry = {rule.rule_id: rule for rule in BUILTIN}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        try:
            rule = entry.load()
        except Exception as error:
            _left_out(entry.value, f"it failed to load: {type(error).__name__}: {error}")
            continue
        if not isinstance(rule, Rule):
            _left_out(entry.value, "it is not a migrator.rules.base.Rule")
        elif rule.rule_id in registry:
            _left_out(entry.value, f"rule id {rule.rule_id!r} is taken")
        else:
            registry[rule.rule_id] = rule
    return registry


def _left_out(where: str, why: str) -> None:
    get_logger(step="rules").warning("plugin left out", plugin=where, reason=why)


REGISTRY: dict[str, Rule] = load_registry()


def default_rule_ids() -> tuple[str, ...]:
    """The rules that run when none is named: every rule but the opt-in ones."""
    return tuple(rule_id for rule_id, rule in REGISTRY.items() if not rule.opt_in)
