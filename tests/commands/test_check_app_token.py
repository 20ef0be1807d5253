"""`migrator check` with the opt-in release-app-token rule: only when named, its flags, and `--lint`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator import lint
from migrator.cli import main

GOLDEN = Path(__file__).parents[1] / "rules" / "golden"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(GOLDEN / "app-pat-checkout" / "before", root)
    return root


def test_the_rule_runs_only_when_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(repo)]) == 0
    assert "release-app-token" not in capsys.readouterr().out
    assert main(["check", str(repo), "--rule", "release-app-token"]) == 1
    out = capsys.readouterr().out
    assert "release-app-token [warning]" in out and "1 need --include-review" in out


def test_the_app_flags_name_the_inputs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", str(repo), "--rule", "release-app-token", "--diff", "--include-review"]
    assert main([*argv, "--app-client-id-secret", "BOT_ID", "--app-key-secret", "BOT_KEY"]) == 1  # not --fix
    out = capsys.readouterr().out
    assert "+          app-id: ${{ secrets.BOT_ID }}" in out and "private-key: ${{ secrets.BOT_KEY }}" in out
    assert main([*argv, "--app-client-id-secret", "vars.BOT_ID"]) == 1
    assert "app-id: ${{ vars.BOT_ID }}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--app-client-id-secret", "env.X", "give NAME, secrets.NAME or vars.NAME"),
        ("--app-key-secret", "GITHUB_KEY", "GitHub reserves the GITHUB_ prefix"),
        ("--app-slug", "Not A Slug", "is not an App slug"),
    ],
)
def test_bad_app_flags_are_one_line_errors(
    repo: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, says: str
) -> None:
    assert main(["check", str(repo), "--rule", "release-app-token", flag, value]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_lint_says_which_linters_ran_and_what_the_fix_adds(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(repo), "--rule", "release-app-token", "--include-review", "--lint"])
    captured = capsys.readouterr()
    missing = [name for name, where in lint.installed().items() if where is None]
    for name in missing:
        assert name in captured.err and "not installed" in captured.err
    if len(missing) < len(lint.TOOLS):
        assert "release.yml: no new findings" in captured.out
    assert code == 1  # the finding is there (not --fix); the lint added none
