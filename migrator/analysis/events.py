"""Events as GitHub evaluates triggers: which concrete events start a workflow.

Two publishers can only race on an event that starts both. Rather than compare filter lists,
we build a small set of concrete sample events from every filter the workflows mention (the
default branch, each branch and tag pattern made concrete, the tag a release would create) and
ask each workflow, the way GitHub would, whether that event starts it.

An *occasion* is a set of events that happen together: a push to the default branch whose release
job creates tag v1.2.3 and its release (once the release uses a PAT or App token, which is what
the token-mismatch fix brings), or a tag push whose job creates the release of that tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from migrator.workflow.model import Triggers

RELEASE_TAG = "v1.2.3"  # the tag a semantic-release run creates (tagFormat v${version}) in sample events
RELEASE_VERSION = "1.2.3"  # its version, as semantic-release outputs it (new_release_version)
# Activity types GitHub sends when a release is published through the API (a non-draft, non-prerelease).
PUBLISHED_RELEASE = ("created", "published", "released")
# Events a person or a clock starts: a publisher that runs only on these is a rebuild tool, never a race.
MANUAL_EVENTS = frozenset({"workflow_dispatch", "schedule", "repository_dispatch"})
PR_EVENTS = frozenset({"pull_request", "pull_request_target", "merge_group"})


@dataclass(frozen=True, order=True)
class Event:
    name: str  # push, release, workflow_run, workflow_dispatch, schedule, pull_request
    ref_kind: str = ""  # "branch" or "tag" ("" when the event has no ref of its own)
    ref: str = ""  # branch or tag name
    action: str = ""  # activity type (release: published...), workflow name for workflow_run

    def describe(self) -> str:
        if self.name == "push":
            return f"a push to {self.ref}" if self.ref_kind == "branch" else f"a push of tag {self.ref}"
        if self.name == "release":
            return f"release {self.action} ({self.ref})"
        if self.name == "workflow_run":
            return f"workflow_run after {self.action!r}"
        return self.name

    def context(self, default_branch: str) -> dict[str, str]:
        """The github.* values conditions may read for this event."""
        prefix = "refs/tags/" if self.ref_kind == "tag" else "refs/heads/"
        out = {"github.event_name": self.name, "github.event.action": self.action}
        if self.ref:
            out |= {"github.ref": prefix + self.ref, "github.ref_name": self.ref, "github.ref_type": self.ref_kind}
        if self.name == "release":
            out["github.event.release.tag_name"] = self.ref
            out["github.event.release.prerelease"] = "false"
            out["github.event.release.draft"] = "false"
        if self.ref_kind == "branch":
            out["github.event.repository.default_branch"] = default_branch
        return out


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    """GitHub's filter pattern syntax: `*` (no `/`), `**`, `?` and `+` (of the previous character), `[...]`."""
    out = []
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
            out.append(char)  # the previous character: zero or one / one or more
        elif char == "[":
            end = pattern.find("]", index)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append(pattern[index : end + 1])
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(re.escape(pattern))


def matches(patterns: list[str], value: str) -> bool:
    """Ordered positive and `!`-negative patterns: the last one that matches decides."""
    matched = False
    for pattern in patterns:
        negative = pattern.startswith("!")
        if _glob(pattern[1:] if negative else pattern).fullmatch(value):
            matched = not negative
    return matched


def sample(pattern: str, *, tag: bool) -> str:
    """A concrete ref that a filter pattern matches (`v*` -> `v1`, `release/**` -> `release/x`)."""
    filler = "1" if tag else "x"
    text = pattern.lstrip("!")
    text = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1)[:1] or filler, text)
    text = text.replace("**", filler).replace("*", filler)
    return re.sub(r".[?]", "", text).replace("+", "")


def fires(triggers: Triggers, event: Event) -> bool:
    """Whether GitHub starts a workflow with these triggers for this event (paths filters aside)."""
    if event.name not in triggers.events:
        return False
    if event.name == "push":
        return _push_fires(triggers, event)
    if event.name == "release":
        types = triggers.filters("release", "types")
        return types is None or event.action in types
    if event.name == "workflow_run":
        names = triggers.filters("workflow_run", "workflows") or []
        return event.action in names
    return True


def _push_fires(triggers: Triggers, event: Event) -> bool:
    kind = "tags" if event.ref_kind == "tag" else "branches"
    other = "branches" if kind == "tags" else "tags"
    include = triggers.filters("push", kind)
    ignore = triggers.filters("push", f"{kind}-ignore")
    if include is None and ignore is None:
        # Filters on the other kind only: GitHub skips this kind of ref altogether.
        return triggers.filters("push", other) is None and triggers.filters("push", f"{other}-ignore") is None
    if include is not None:
        return matches(include, event.ref)
    assert ignore is not None
    return not matches(ignore, event.ref)


def paths_filtered(triggers: Triggers, event: Event) -> bool:
    """A `paths`/`paths-ignore` filter decides whether this event starts the workflow (tags ignore them)."""
    if event.name not in {"push", *PR_EVENTS} or event.ref_kind == "tag":
        return False
    return any(triggers.filters(event.name, key) is not None for key in ("paths", "paths-ignore"))


def samples(all_triggers: list[Triggers], default_branch: str) -> list[Event]:
    """Concrete automatic events worth asking every workflow about."""
    branches = {default_branch}
    tags = {RELEASE_TAG}
    workflow_runs: set[str] = set()
    for triggers in all_triggers:
        for key in ("branches", "branches-ignore"):
            branches.update(sample(p, tag=False) for p in triggers.filters("push", key) or [])
        for key in ("tags", "tags-ignore"):
            tags.update(sample(p, tag=True) for p in triggers.filters("push", key) or [])
        workflow_runs.update(triggers.filters("workflow_run", "workflows") or [])
    events = [Event("push", "branch", b) for b in sorted(branches) if b]
    events += [Event("push", "tag", t) for t in sorted(tags) if t]
    events += [Event("release", "tag", t, a) for t in sorted(tags) if t for a in PUBLISHED_RELEASE]
    events += [Event("workflow_run", "", "", name) for name in sorted(workflow_runs)]
    return events


def release_chain(tag: str) -> tuple[Event, ...]:
    """The events a new release of `tag` sends: the tag push, then the release's activity types."""
    return (Event("push", "tag", tag), *(Event("release", "tag", tag, a) for a in PUBLISHED_RELEASE))
