"""`migrator report` of the sandbox campaign (tests/verify/campaign.py): the HTML page is self-contained, the
Markdown fits a job summary, and `--tracking-issue` keeps one issue's body up to date, writing only on change."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.report.model import STATES
from migrator.sandbox.testing import FakeClock, Sandbox
from tests.verify.campaign import ORG, campaign, gh


def report(plan: Path, sandbox: Sandbox, *extra: str) -> int:
    return main(["report", str(plan), "--api-url", sandbox.url, "--image-source", "sandbox", *extra])


def test_html_report_is_self_contained_with_a_chart_tables_and_evidence(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    out = tmp_path / "report.html"
    assert report(plan, sandbox, "--out", str(out)) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//(?!127\.0\.0\.1)""", page)  # nothing fetched
    assert '<svg class="burndown"' in page and page.count('class="band"') == len(STATES)
    for state in ("release verified", "broken", "merged"):
        assert f'<table class="state" data-state="{state}">' in page
    assert "Evidence for every broken repository" in page
    assert "GH006: Protected branch update failed for refs/heads/main." in page
    assert "docker-build.yml and docker.yml both pushed" in page
    assert f'href="{sandbox.url}/{ORG}/good/pull/1"' in page or "/acme/good/pull/1" in page


def test_markdown_report_has_a_mermaid_chart_and_escapes_content(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    capsys.readouterr()
    assert report(plan, sandbox, "--format", "markdown") == 0
    text = capsys.readouterr().out
    name = json.loads(plan.read_text())["campaign"]
    assert name and text.splitlines()[0] == f"# migrator campaign {name}"  # the campaign, not the plan id
    assert "```mermaid\nxychart-beta" in text
    assert "## release verified (1)" in text and "## broken (3)" in text and "## merged (2)" in text
    assert len(text.encode()) < 1024 * 1024


def test_tracking_issue_body_is_written_once_and_then_left_alone(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    issue = gh(sandbox, "POST", f"/repos/{ORG}/good/issues", {"title": "migrator campaign", "body": "(empty)"})
    target = f"{ORG}/good#{issue['number']}"
    out = tmp_path / "r.md"
    assert report(plan, sandbox, "--format", "markdown", "--out", str(out), "--tracking-issue", target) == 0
    assert "updated" in capsys.readouterr().err
    body = gh(sandbox, "GET", f"/repos/{ORG}/good/issues/{issue['number']}")["body"]
    assert body.startswith("# migrator campaign acme") and "## broken (3)" in body
    sandbox.clear_requests()
    assert report(plan, sandbox, "--format", "markdown", "--out", str(out), "--tracking-issue", target) == 0
    assert "already up to date" in capsys.readouterr().err
    assert not [r for r in sandbox.requests() if r.method == "PATCH"]
