"""`migrator check` as a user runs it: exit codes, output streams, --fix, --format json, bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from migrator.cli import main

GOLDEN = Path(__file__).parents[1] / "rules" / "golden"


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(GOLDEN / "reference" / "before", root)
    return root


def test_findings_exit_1_with_file_line_locations(reference: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(reference)]) == 1
    out = capsys.readouterr().out
    assert ".github/workflows/main.yml:35:18: token-mismatch [safe]" in out
    assert "docker.yml:1:1: redundant-docker [safe]" in out


def test_diff_prints_without_writing(reference: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (reference / ".github/workflows/main.yml").read_bytes()
    assert main(["check", "--diff", str(reference)]) == 1
    out = capsys.readouterr().out
    assert "+          token: ${{ secrets.PAT_TOKEN }}" in out
    assert "+++ /dev/null" in out
    assert (reference / ".github/workflows/main.yml").read_bytes() == before


def test_fix_writes_then_the_checkout_is_clean(reference: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--fix", str(reference)]) == 0
    assert not (reference / ".github/workflows/docker.yml").exists()
    assert main(["check", str(reference)]) == 0
    assert "no findings" in capsys.readouterr().out


def test_fix_keeps_file_mode(reference: Path) -> None:
    target = reference / ".github/workflows/main.yml"
    os.chmod(target, 0o640)
    main(["check", "--fix", str(reference)])
    assert target.stat().st_mode & 0o777 == 0o640


def test_review_fixes_need_include_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    shutil.copytree(GOLDEN / "docker-review" / "before", root)
    assert main(["check", "--fix", str(root)]) == 1
    assert "--include-review" in capsys.readouterr().out
    assert main(["check", "--fix", "--include-review", str(root)]) == 0


def test_json_output_is_machine_readable(reference: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", "--diff", str(reference)]) == 1
    data = json.loads(capsys.readouterr().out)
    findings = data["repositories"][0]["findings"]
    assert {f["rule"] for f in findings} == {"token-mismatch", "redundant-docker"}
    assert all(f["fixes"][0]["safety"] == "safe" for f in findings)
    assert [c["action"] for c in data["repositories"][0]["changes"]] == ["delete", "delete", "modify", "modify"]


def test_pat_secret_supplies_the_pat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    shutil.copytree(GOLDEN / "no-pat" / "before", root)
    assert main(["check", str(root)]) == 0  # only a note without a PAT
    assert "note" in capsys.readouterr().out
    assert main(["check", "--pat-secret", "ORG_PAT", str(root)]) == 1
    assert "secrets.ORG_PAT" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["check", "/definitely/not/here"], ["check", "--pat-secret", "bad name!", "."], ["check", "--format", "xml", "."]],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(argv))
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    assert err[-1].startswith("migrator: error:") or "error:" in err[-1]


def test_hostile_files_are_warnings_not_crashes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "huge.yml").write_bytes(b"# semantic-release\n" + b"x" * 5_000_000)
    (workflows / "binary.yml").write_bytes(b"\x00\x01semantic-release")
    (workflows / "latin1.yml").write_bytes(b"name: caf\xe9\n")
    (workflows / "link.yml").symlink_to(workflows / "binary.yml")
    (workflows / "bad.yml").write_text(
        "on: push\njobs:\n  r:\n    steps:\n      - run: npx semantic-release\n   x: [\n"
    )
    assert main(["check", str(tmp_path / "repo")]) == 1
    out = capsys.readouterr().out
    for name, why in [
        ("huge", "limit"),
        ("binary", "binary"),
        ("latin1", "UTF-8"),
        ("link", "symbolic"),
        ("bad", "invalid YAML"),
    ]:
        assert f"{name}.yml:1:1: unreadable-workflow [warning] not analysed:" in out
        assert why in out


def test_empty_workflow_directory_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    assert main(["check", str(tmp_path)]) == 0
    assert "no workflow files" in capsys.readouterr().err
