"""The README's security note stays true to the code: every command's permissions are listed, and the limits it
promises are the ones the code enforces."""

from __future__ import annotations

import re
from pathlib import Path

from migrator.cli import COMMANDS
from migrator.plan.planfile import path_problem

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## )", README, re.MULTILINE | re.DOTALL)
    assert match, f"the README has a `## {title}` section"
    return match[1]


def test_every_command_has_its_least_privilege_row() -> None:
    security = section("Security")
    first_cells = re.findall(r"^\| ([^|]+) \|", security, re.MULTILINE)
    rows = {cell.strip("` ") for row in first_cells for cell in row.split(",")}
    local_only = {"sandbox", "demo"}  # they talk only to the sandbox they start
    assert set(COMMANDS) - local_only <= rows
    assert "plan merge" in rows


def test_the_promised_path_limits_are_enforced() -> None:
    security = section("Security")
    assert "only files directly in `.github/workflows/` and the README" in security
    assert path_problem(".github/workflows/release.yml") is None
    assert path_problem("README.md") is None
    for outside in ("src/app.py", ".github/workflows/sub/x.yml", "../x", "/etc/passwd", ".github\\workflows\\x.yml"):
        assert path_problem(outside) is not None, outside


def test_the_token_trade_off_and_app_advice_are_there() -> None:
    security = section("Security")
    for claim in ("never force-pushes", "GitHub App installation token is the better target", "plan file is input"):
        assert claim in security
