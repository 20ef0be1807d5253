"""What the report needs from the plan's files: when each repository was planned and its PR opened."""

from __future__ import annotations

from pathlib import Path

from migrator.apply.journal import plan_journals, read_events
from migrator.plan.model import Plan


def planned_at(plan: Plan) -> dict[str, str]:
    return {repo.name: plan.created_at for repo in plan.repos}


def opened_at(plan_path: Path) -> dict[str, tuple[str, str]]:
    """repository -> (PR URL, when the journal recorded it), the first time each was recorded."""
    found: dict[str, tuple[str, str]] = {}
    for journal in plan_journals(plan_path):
        for event in read_events(journal):
            done = event.get("op") == "apply" and event.get("step") == "pull" and event.get("phase") == "done"
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            if done and isinstance(data, dict) and event.get("repo") not in found:
                found[str(event["repo"])] = (str(data.get("url") or ""), str(event.get("at") or ""))
    return found
