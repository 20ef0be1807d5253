"""Seeded random faults on every endpoint, and a kill in apply and in rollback, on a handful of repositories:
after the resume the end state is a clean run's (the CI-sized version of `bench/chaos.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos import TOKEN, no_sleeping, scenario


@pytest.mark.parametrize(("seed", "rate", "kills"), [(11, 0.3, False), (12, 0.5, True)])
def test_random_faults_and_kills_end_as_a_clean_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, rate: float, kills: bool
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with no_sleeping():
        report = scenario(tmp_path, seed=seed, repos=4, rate=rate, kills=kills)
    assert report.faults >= 8, "too few faults to mean anything"
    assert report.resumes_failed == []
    assert report.duplicates == []
    assert report.mismatches == []
    assert report.outcomes, "no outcome was reported"
    if kills:
        assert report.kills == 2, "the kill in apply and the kill in rollback"
