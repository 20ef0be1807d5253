"""The HTML report of the sandbox campaign, as a person looks at it: headless Chromium takes a screenshot and
builds the DOM; the chart and every state's table are there, and the page logs nothing to the console."""

from __future__ import annotations

from pathlib import Path

from migrator.cli import main
from migrator.report.model import STATES
from migrator.sandbox.testing import FakeClock, Sandbox
from tests.report.chromium import png_size, render
from tests.verify.campaign import campaign


def test_the_report_renders_in_chromium_with_chart_and_tables_and_no_console_errors(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    page = tmp_path / "report.html"
    assert main(["report", str(plan), "--api-url", sandbox.url, "--image-source", "sandbox", "--out", str(page)]) == 0
    shot = tmp_path / "report.png"
    rendered = render(page, shot)
    assert png_size(shot) == (1200, 1400)
    assert shot.stat().st_size > 20_000  # drawn, not blank
    assert '<svg class="burndown"' in rendered.dom and rendered.dom.count('class="band"') == len(STATES)
    for state in ("release verified", "broken", "merged"):
        assert f'data-state="{state}"' in rendered.dom
    assert "Evidence for every broken repository" in rendered.dom
    assert rendered.console == []
