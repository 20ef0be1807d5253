"""`migrator plan` behaviour that needs no sandbox: interruption, and flags refused before any request."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.commands import plan as plan_command
from migrator.github.types import RepoRecord
from tests.plan.fakes import FakeReader, record


class InterruptedReader(FakeReader):
    def repositories(self, org: str, *, campaign_branch: str | None = None) -> Iterator[RepoRecord]:
        yield from self.records[:1]
        raise KeyboardInterrupt


def test_ctrl_c_writes_no_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = InterruptedReader([record("acme/a", {}), record("acme/b", {})])

    def fake_connect(args: argparse.Namespace) -> FakeReader:
        return reader

    monkeypatch.setattr(plan_command, "connect_from", fake_connect)
    assert main(["plan", "--org", "acme", "--out", str(tmp_path / "plan.json")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_pat_secret_is_refused_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(args: argparse.Namespace) -> FakeReader:
        raise AssertionError("connected before validating flags")

    monkeypatch.setattr(plan_command, "connect_from", refuse)
    assert main(["plan", "--org", "acme", "--pat-secret", "GITHUB_TOKEN"]) == 2
