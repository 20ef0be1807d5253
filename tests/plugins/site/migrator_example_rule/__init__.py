"""An example rule plugin: a note wherever a workflow still checks out with actions/checkout@v1 or @v2."""

from __future__ import annotations

import re

from migrator.analysis.context import RepoContext
from migrator.model import Finding, Location, Severity
from migrator.rules.base import Rule

OLD = re.compile(r"uses:\s*actions/checkout@v[12]\b")


def check(ctx: RepoContext) -> list[Finding]:
    findings = []
    for path in ctx.workflow_paths():
        text = ctx.text(path) or ""
        for number, line in enumerate(text.splitlines(), start=1):
            if match := OLD.search(line):
                where = Location(path, number, match.start() + 1)
                findings.append(Finding("example-old-checkout", Severity.NOTE, where, "an old actions/checkout"))
    return findings


RULE = Rule("example-old-checkout", "notes workflows on actions/checkout v1 or v2 (an example plugin)", check)
