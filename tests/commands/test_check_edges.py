"""Edge cases found by trying `migrator check` as a new user would."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from migrator.cli import main

GOLDEN = Path(__file__).parents[1] / "rules" / "golden"


def repo_from(case: str, tmp_path: Path, name: str = "repo") -> Path:
    root = tmp_path / name
    shutil.copytree(GOLDEN / case / "before", root)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_fix_reads_every_path_before_writing_any(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo_from("reference", tmp_path)
    before = snapshot(root)
    assert main(["check", "--fix", str(root), str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert snapshot(root) == before


def test_a_failed_write_says_what_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo_from("reference", tmp_path)

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    assert main(["check", "--fix", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Permission denied" in err and "0 of 4 file changes were written" in err
    assert (root / ".github/workflows/docker.yml").exists()  # deletions come last


def test_symlinked_workflow_folder_is_not_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = repo_from("reference", tmp_path, "outside")
    root = tmp_path / "repo"
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "workflows").symlink_to(outside / ".github" / "workflows")
    assert main(["check", "--fix", str(root)]) == 1
    assert "a symbolic link; not followed" in capsys.readouterr().out
    assert (outside / ".github/workflows/docker.yml").exists()


def test_a_workflow_that_dispatches_the_duplicate_makes_it_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo_from("reference", tmp_path)
    (root / ".github/workflows/nightly.yml").write_text(
        "on: schedule\njobs:\n  kick:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: gh workflow run docker.yml\n"
    )
    main(["check", str(root)])
    out = capsys.readouterr().out
    assert "docker.yml:1:1: redundant-docker [review]" in out and "nightly.yml mentions it" in out


def test_default_branch_comes_from_the_workflows_not_the_checked_out_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo_from("reference", tmp_path)
    for path in (root / ".github/workflows").iterdir():
        path.write_text(path.read_text().replace("[ main ]", "[ master ]"))
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/feature/x\n")
    main(["check", str(root)])
    assert "redundant-docker" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "github_token", "GITHUB_PAT"])
def test_reserved_secret_names_are_refused(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--pat-secret", name, str(repo_from("no-pat", tmp_path))]) == 2
    assert "GITHUB_ prefix" in capsys.readouterr().err


def test_unreadable_readme_is_a_note_not_a_workflow_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo_from("reference", tmp_path)
    (root / "README.md").write_bytes(b"Caf\xe9 [![D](https://x/actions/workflows/docker.yml/badge.svg)](x)\n")
    main(["check", str(root)])
    out = capsys.readouterr().out
    assert "unreadable-workflow" not in out
    assert "README.md could not be read" in out


def test_commented_out_shell_lines_are_not_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo_from("reference", tmp_path)
    main_yml = root / ".github/workflows/main.yml"
    main_yml.write_text(main_yml.read_text().replace("          git remote set-url", "          # git remote set-url"))
    main(["check", str(root)])
    assert ":41:" not in capsys.readouterr().out


def test_tab_indented_yaml_is_unreadable_not_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(
        "on: push\njobs:\n\trelease:\n\t\tsteps:\n\t\t\t- run: npx semantic-release\n"
    )
    assert main(["check", str(tmp_path)]) == 1
    assert "invalid YAML" in capsys.readouterr().out


def test_a_checkout_after_the_release_step_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: npx semantic-release\n        env:\n          GH_TOKEN: ${{ secrets.GH_PAT }}\n"
        "      - uses: actions/checkout@v4\n"
    )
    assert main(["check", str(tmp_path)]) == 0
    assert "no findings" in capsys.readouterr().out


def test_the_same_path_twice_is_checked_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo_from("reference", tmp_path)
    main(["check", str(root), f"{root}/"])
    assert capsys.readouterr().out.startswith(".github") is False
    main(["check", str(root)])
    single = capsys.readouterr().out.splitlines()[-1]
    main(["check", str(root), f"{root}/"])
    assert capsys.readouterr().out.splitlines()[-1] == single


def test_control_characters_in_file_names_are_shown_not_obeyed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "evil\x1b[31m\nname.yml").write_bytes(b"\x00binary")
    main(["check", str(tmp_path)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out and "\\n" in out
    assert len(out.strip().splitlines()) == 2  # one finding line, one summary line


def test_workflow_folder_as_path_gets_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo_from("reference", tmp_path)
    assert main(["check", str(root / ".github" / "workflows")]) == 2
    assert "repository root" in capsys.readouterr().err
