"""What a rule sees of one repository: decoded texts and parsed workflows, made on demand.

Parsing is the expensive part of checking, and most workflow files in an org
are irrelevant. Rules ask for workflows that contain some marker text; only
those are parsed, once, and shared between rules.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from migrator.model import RepoSnapshot
from migrator.workflow import document
from migrator.workflow.document import UnreadableFile
from migrator.workflow.model import Workflow, build
from migrator.workflow.release import Scripts, package_scripts, text_marker

T = TypeVar("T")

DEFAULT_DOCKER_CANDIDATES = ("*.yml", "*.yaml")  # every workflow may be a duplicate; --docker-glob narrows
DEFAULT_KEEPERS = ("main.yml", "main.yaml")


@dataclass(frozen=True, kw_only=True)
class RuleSettings:
    """Knobs shared by the rules. Recorded in plans, so they must stay JSON-friendly."""

    pat_secret: str | None = None  # the org's release PAT when the files do not name one
    docker_candidates: tuple[str, ...] = DEFAULT_DOCKER_CANDIDATES  # globs on workflow file names
    keepers: tuple[str, ...] = DEFAULT_KEEPERS  # preferred keeper names when no release job decides
    max_file_bytes: int = document.MAX_WORKFLOW_BYTES
    rules: tuple[str, ...] = ()  # --rule: only these rules (opt-in ones such as release-app-token included)
    # release-app-token: where the App's id (or client id) and private key come from, and the App's slug.
    app_client_id: str | None = None  # `vars.NAME` or `secrets.NAME`
    app_key_secret: str | None = None
    app_slug: str | None = None
    # The org's secret names, when a rule picks secrets by name (release-app-token); read by plan, not recorded.
    org_secrets: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pat_secret": self.pat_secret,
            "docker_candidates": list(self.docker_candidates),
            "keepers": list(self.keepers),
            "max_file_bytes": self.max_file_bytes,
        }
        if self.rules:
            out["rules"] = list(self.rules)
        for key in ("app_client_id", "app_key_secret", "app_slug"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass
class RepoContext:
    snapshot: RepoSnapshot
    settings: RuleSettings = field(default_factory=RuleSettings)
    problems: dict[str, str] = field(default_factory=dict)  # path -> why it could not be analysed
    _texts: dict[str, str | None] = field(default_factory=dict)
    _workflows: dict[str, Workflow | None] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def pat_secret(self) -> str | None:
        return self.settings.pat_secret or self.snapshot.pat_secret

    def workflow_paths(self) -> list[str]:
        return self.snapshot.workflow_paths()

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            file = self.snapshot.files.get(path)
            decoded: str | None = None
            if file is not None:
                try:
                    decoded = document.decode(path, file.content, max_bytes=self.settings.max_file_bytes)
                except UnreadableFile as problem:
                    self.problems[path] = str(problem)
            self._texts[path] = decoded
        return self._texts[path]

    def workflow(self, path: str) -> Workflow | None:
        if path not in self._workflows:
            text = self.text(path)
            parsed: Workflow | None = None
            if text is not None:
                try:
                    parsed = build(document.parse(path, text))
                except UnreadableFile as problem:
                    self.problems[path] = str(problem)
            self._workflows[path] = parsed
        return self._workflows[path]

    def workflows(self, paths: Iterable[str] | None = None) -> list[Workflow]:
        chosen = self.workflow_paths() if paths is None else paths
        return [wf for path in chosen if (wf := self.workflow(path)) is not None]

    def workflows_matching(self, marker: re.Pattern[str]) -> list[Workflow]:
        """Parse only the workflows whose raw text matches a cheap marker pattern."""
        chosen = [p for p in self.workflow_paths() if (text := self.text(p)) is not None and marker.search(text)]
        return self.workflows(chosen)

    def scripts(self) -> Scripts:
        return self.memo("package-scripts", self._package_scripts)

    def _package_scripts(self) -> Scripts:
        """Root package.json scripts, with those of every workspace package.json the snapshot holds."""
        workspaces = [
            file.content
            for path, file in sorted(self.snapshot.files.items())
            if path.endswith("/package.json") and "node_modules/" not in path
        ]
        return package_scripts(self._raw("package.json"), workspaces)

    def release_marker(self) -> re.Pattern[str]:
        return self.memo("release-marker", lambda: text_marker(self.scripts()))

    def matches_any(self, path: str, globs: Iterable[str]) -> bool:
        name = path.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in globs)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    def _raw(self, path: str) -> bytes | None:
        file = self.snapshot.files.get(path)
        return file.content if file is not None else None
