"""Fixtures: a small seed with every case the sandbox distinguishes, and a running sandbox on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Github

from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox
from tests.sandbox.support import build_seed, client


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seed(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(seed_dir: Path, clock: FakeClock) -> Iterator[Sandbox]:
    with running_sandbox(seed_dir, clock=clock) as running:
        yield running


@pytest.fixture
def gh(sandbox: Sandbox) -> Github:
    return client(sandbox)
