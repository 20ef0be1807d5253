"""Which workflows an event starts: `on:` and its filters, as GitHub documents them.

GitHub docs, "Events that trigger workflows" and "Workflow syntax" (`on.push.<branches|tags|branches-ignore|
tags-ignore>`, `on.push.<paths|paths-ignore>`, `on.<event>.types`, "Filter pattern cheat sheet"):
- `*` matches any character but `/`, `**` any character, `?` makes the preceding character optional, `+` repeats
  it, `[...]` is a class, and a pattern starting with `!` excludes what earlier patterns included (order matters).
- With only branch filters a workflow does not run for tag pushes, and with only tag filters not for branch
  pushes; with neither it runs for both.
- Path filters are not evaluated for pushes of tags. With `paths`, at least one changed file must match; with
  `paths-ignore`, a push runs unless every changed file matches.
- `types` narrows the activity types (`release`: created, published, released, ...); without it every type starts
  a run, so a workflow `on: release` runs once per activity of one release. `pull_request` without `types` runs
  for opened, synchronize and reopened, and its `branches` filter the base branch.
- Events made with the repository's GITHUB_TOKEN start no workflow, except `workflow_dispatch` and
  `repository_dispatch` ("Triggering a workflow from a workflow").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from migrator.sandbox.actions.documents import Workflow

DISPATCH_EVENTS = frozenset({"workflow_dispatch", "repository_dispatch"})
PULL_REQUEST_TYPES = ("opened", "synchronize", "reopened")  # pull_request without `types`
BRANCH_FILTERS = ("branches", "branches-ignore")
TAG_FILTERS = ("tags", "tags-ignore")


@dataclass(frozen=True)
class Event:
    """Something that happened in a repository, with the commit and ref a run of it sees."""

    name: str  # push, release, workflow_dispatch
    ref: str  # refs/heads/main, refs/tags/v1.0.0
    sha: str
    actor: str  # the login the event is credited to
    by_github_token: bool = False  # made with a run's GITHUB_TOKEN: starts no workflow (but dispatches)
    action: str | None = None  # the activity type: release's created / published / released
    changed: tuple[str, ...] = ()  # paths a push changed
    before: str | None = None
    release_id: int | None = None
    depth: int = 0  # how many runs led to it: chains stop at a bound
    base_ref: str | None = None  # a pull request's base and head branches
    head_ref: str | None = None
    pull_number: int | None = None

    @property
    def ref_name(self) -> str:
        return self.ref.split("/", 2)[2] if self.ref.count("/") >= 2 else self.ref

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")


def starts(workflow: Workflow, event: Event) -> bool:
    """Whether `event` starts a run of `workflow`."""
    if not workflow.valid or event.name not in workflow.on:
        return False
    if event.by_github_token and event.name not in DISPATCH_EVENTS:
        return False
    filters = workflow.on[event.name]
    if event.name == "push":
        return _push_matches(filters, event)
    types = filters.get("types")
    if event.name in ("pull_request", "pull_request_target"):
        wanted = _names(types) if types else PULL_REQUEST_TYPES
        return ((event.action or "") in wanted and _branch_filter(filters, "branches", event.base_ref or "")
                and _paths_match(filters, event.changed))
    return not types or (event.action or "") in _names(types)


def _push_matches(filters: Mapping[str, Any], event: Event) -> bool:
    own, other = (TAG_FILTERS, BRANCH_FILTERS) if event.is_tag else (BRANCH_FILTERS, TAG_FILTERS)
    has_own = any(k in filters for k in own)
    if not has_own and any(k in filters for k in other):
        return False
    if has_own and not _branch_filter(filters, own[0], event.ref_name):
        return False
    return event.is_tag or _paths_match(filters, event.changed)


def _branch_filter(filters: Mapping[str, Any], key: str, name: str) -> bool:
    if key in filters:
        return matches(_names(filters[key]), name)
    ignored = key + "-ignore"
    return not (ignored in filters and matches(_names(filters[ignored]), name))


def _paths_match(filters: Mapping[str, Any], changed: Sequence[str]) -> bool:
    if "paths" in filters:
        patterns = _names(filters["paths"])
        return any(matches(patterns, path) for path in changed)
    if "paths-ignore" in filters:
        patterns = _names(filters["paths-ignore"])
        return not changed or not all(matches(patterns, path) for path in changed)
    return True


def _names(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list):
        return tuple(str(item) for item in raw)
    return ()


def matches(patterns: Sequence[str], name: str) -> bool:
    """GitHub's filter patterns in order: the last pattern that matches decides (a `!` pattern excludes)."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _compile(pattern[1:] if negated else pattern).fullmatch(name):
            included = not negated
    return included


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char in "?+":
            out.append(char if out else re.escape(char))
        elif char == "[":
            end = pattern.find("]", index)
            out.append(pattern[index : end + 1] if end > index else re.escape(char))
            index = end if end > index else index
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out))
