"""Findings and fixes as JSON-friendly dicts (for `check --format json` and plan files)."""

from __future__ import annotations

from typing import Any

from migrator.model import DeleteFile, Finding, Fix


def finding_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "path": loc.path,
        "line": loc.line,
        "column": loc.column,
        "message": finding.message,
        "notes": list(finding.notes),
        "evidence": list(finding.evidence),
        "fixes": [fix_dict(fix) for fix in finding.fixes],
    }


def fix_dict(fix: Fix) -> dict[str, Any]:
    return {
        "description": fix.description,
        "safety": fix.safety.value,
        "paths": fix.paths(),
        "deletes": sorted(e.path for e in fix.edits if isinstance(e, DeleteFile)),
        "notes": list(fix.notes),
    }
