"""Run the workflow linters zizmor (offline) and actionlint on proposed files, and say what a fix adds.

Both are optional tools (the `dev` and `lint` extras install them). Each lint runs on a copy of the file in a
temporary `.github/workflows/`, so the linters see it where GitHub would, and the checkout is never touched.
A finding is identified by its tool, its rule and its message without positions, so moving lines (an inserted
step) does not make an old finding look new.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("zizmor", "actionlint")
_TIMEOUT = 120


@dataclass(frozen=True, order=True)
class LintFinding:
    tool: str
    rule: str
    message: str


def find_tool(name: str) -> str | None:
    """The tool's executable: on PATH, or beside the running Python (a virtual environment's bin)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def installed() -> dict[str, str | None]:
    return {name: find_tool(name) for name in TOOLS}


def lint(path: str, text: str, tools: Mapping[str, str | None] | None = None) -> list[LintFinding]:
    """Every finding of the installed linters on one workflow file's text."""
    tools = installed() if tools is None else tools
    name = path.rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="migrator-lint-") as root:
        folder = Path(root) / ".github" / "workflows"
        folder.mkdir(parents=True)
        target = folder / name
        target.write_text(text, encoding="utf-8", newline="")
        found: list[LintFinding] = []
        if tools.get("zizmor"):
            found += _zizmor(str(tools["zizmor"]), target)
        if tools.get("actionlint"):
            found += _actionlint(str(tools["actionlint"]), target, Path(root))
    return sorted(found)


def new_findings(before: list[LintFinding], after: list[LintFinding]) -> list[LintFinding]:
    """What `after` has more of than `before`."""
    extra = Counter(after) - Counter(before)
    return sorted(extra.elements())


def _run(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT, cwd=cwd, check=False)
    return done.stdout


def _zizmor(binary: str, target: Path) -> list[LintFinding]:
    out = _run([binary, "--offline", "--no-progress", "--format", "json", str(target)])
    try:
        data = json.loads(out or "[]")
    except ValueError:
        return [LintFinding("zizmor", "unreadable-output", out.strip()[:200])]
    return [
        LintFinding("zizmor", str(item.get("ident")), str(item.get("desc", "")))
        for item in data
        if isinstance(item, dict)
    ]


def _actionlint(binary: str, target: Path, root: Path) -> list[LintFinding]:
    out = _run([binary, "-no-color", "-format", "{{json .}}", str(target)], cwd=root)
    try:
        data = json.loads(out or "[]")
    except ValueError:
        return [LintFinding("actionlint", "unreadable-output", out.strip()[:200])]
    return [
        LintFinding("actionlint", str(item.get("kind")), str(item.get("message", "")))
        for item in data
        if isinstance(item, dict)
    ]
