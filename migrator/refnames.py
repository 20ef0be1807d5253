"""The one place that decides which plan ids, branch names and repository names migrator accepts.

`migrator plan --plan-id` and the plan reader both use these, so a plan file can hold nothing the planner
would refuse. Every check full-matches: a trailing newline (which `re.search` with `$` lets through) is
refused like any other character outside the pattern.

Branch names follow `git check-ref-format --branch`: no component that starts with `.` or ends with
`.lock`, no `..`, no ASCII control character, space, `~`, `^`, `:`, `?`, `*`, `[` or backslash, no `@{`,
no `//`, no leading or trailing `/`, not ending with `.`, and not `@` alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

BRANCH_PREFIX = "migrator/"
PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Owners and repositories: letters, digits, `.`, `_` and `-` (GitHub is stricter for owners; this is what
# the plan schema has always accepted).
OWNER = re.compile(r"[A-Za-z0-9._-]{1,100}")
REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
MAX_REF_BYTES = 255
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def ref_problem(name: str) -> str | None:
    """Why git (and so GitHub) would refuse `name` as a branch name, or None."""
    if not name:
        return "is empty"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_REF_BYTES:
        return f"is longer than {MAX_REF_BYTES} bytes"
    bad = _FORBIDDEN.search(name)
    if bad:
        return f"contains {bad.group()!r}, which git refuses in a branch name"
    if name == "@" or "@{" in name:
        return "contains '@{' or is '@', which git refuses"
    if ".." in name:
        return "contains '..', which git refuses"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "has an empty path component"
    if name.endswith("."):
        return "ends with '.'"
    for part in name.split("/"):
        if part.startswith("."):
            return f"has a component starting with '.' ({part!r})"
        if part.endswith(".lock"):
            return f"has a component ending with '.lock' ({part!r})"
    if name.startswith("-"):
        return "starts with '-'"
    return None


def plan_id_problem(plan_id: str) -> str | None:
    """A plan id names a branch (`migrator/<id>`) and a file: letters, digits, `.`, `_`, `-`, at most 100."""
    if not PLAN_ID.fullmatch(plan_id):
        return "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
    problem = ref_problem(BRANCH_PREFIX + plan_id)
    return f"cannot name a branch: {BRANCH_PREFIX}{plan_id} {problem}" if problem else None


def repo_name_problem(full_name: str) -> str | None:
    """`owner/name` as GitHub spells repositories."""
    owner, slash, name = full_name.partition("/")
    if not slash or not OWNER.fullmatch(owner) or not REPO.fullmatch(name) or {owner, name} & {".", ".."}:
        return "is not a GitHub repository name (owner/name)"
    return None


def campaign_problem(campaign: str) -> str | None:
    """A campaign names the branch every plan of it uses (`migrator/<campaign>`): the plan id's rules."""
    if not PLAN_ID.fullmatch(campaign):
        return "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
    problem = ref_problem(BRANCH_PREFIX + campaign)
    return f"cannot name a branch: {BRANCH_PREFIX}{campaign} {problem}" if problem else None


def default_campaign(org: str, rule_ids: Iterable[str]) -> str:
    """`<org>-<rule>-<rule>...` (the org lowercased, the rules sorted): planning the same org with the same rules
    again targets the same campaign. A name over 100 characters keeps its start and a short hash of the whole."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", "-".join([org.lower(), *sorted({r.lower() for r in rule_ids})])).strip("-.")
    slug = slug or "campaign"
    if len(slug) > 100 or campaign_problem(slug):
        digest = hashlib.sha256(slug.encode("utf-8")).hexdigest()[:10]
        slug = f"{slug[:89].rstrip('-.')}-{digest}".lstrip("-.")
    return slug
