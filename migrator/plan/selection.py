"""Which repositories a plan considers, and why the others were left out."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from migrator.github.types import RepoRecord

OPT_OUT_TOPIC = "migrator-ignore"


@dataclass(frozen=True, kw_only=True)
class Selection:
    repos: tuple[str, ...] = ()  # exact names, with or without "org/"
    include: tuple[str, ...] = ()  # globs on the repo name
    exclude: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # keep only repos carrying one of these topics
    include_archived: bool = False
    include_forks: bool = False
    include_empty: bool = False
    include_disabled: bool = False

    def skip_reason(self, record: RepoRecord) -> str | None:
        """Why this repo is left out, or None to keep it. Checked in a fixed order, so reasons are stable."""
        short = record.full_name.split("/", 1)[-1]
        if record.vanished:
            return record.vanished
        if OPT_OUT_TOPIC in record.topics:
            return f"opted out with the `{OPT_OUT_TOPIC}` topic"
        if self.repos and not self.names(record.full_name):
            return "not named by --repo"
        if self.include and not any(fnmatch.fnmatchcase(short, g) for g in self.include):
            return "not matched by --include"
        if any(fnmatch.fnmatchcase(short, g) for g in self.exclude):
            return "matched by --exclude"
        if self.topics and not set(self.topics) & set(record.topics):
            return "has none of the --topic topics"
        for flag, reason in self._state_reasons(record):
            if not flag:
                return reason
        return None

    def names(self, full_name: str) -> bool:
        """`--repo` names this repository (`org/repo` or `repo`; GitHub's names are case-insensitive)."""
        wanted = {n.lower() for n in self.repos}
        return full_name.lower() in wanted or full_name.split("/", 1)[-1].lower() in wanted

    def unknown_names(self, full_names: list[str]) -> list[str]:
        """The `--repo` names that match none of these repositories."""
        return [n for n in self.repos if not any(Selection(repos=(n,)).names(f) for f in full_names)]

    def _state_reasons(self, record: RepoRecord) -> list[tuple[bool, str]]:
        return [
            (self.include_archived or not record.archived, "archived (--include-archived to scan it)"),
            (self.include_disabled or not record.disabled, "disabled (--include-disabled to scan it)"),
            (self.include_forks or not record.fork, "a fork (--include-forks to scan it)"),
            (self.include_empty or not (record.empty or record.head_oid is None), "empty (--include-empty to scan it)"),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "repos": list(self.repos),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "topics": list(self.topics),
            "include_archived": self.include_archived,
            "include_forks": self.include_forks,
            "include_empty": self.include_empty,
            "include_disabled": self.include_disabled,
            "opt_out_topic": OPT_OUT_TOPIC,
        }
