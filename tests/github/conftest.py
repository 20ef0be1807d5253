"""A running sandbox on the adapter's seed, and a client on it that never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox
from tests.github.support import Waits, build_seed


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seed(tmp_path_factory.mktemp("github-seed"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def waits(clock: FakeClock) -> Waits:
    """Waits move the sandbox's clock too, so a rate-limit window really passes."""
    return Waits(now=clock.now, on_sleep=clock.advance)


@pytest.fixture
def sandbox(seed_dir: Path, clock: FakeClock) -> Iterator[Sandbox]:
    with running_sandbox(seed_dir, clock=clock) as running:
        yield running
