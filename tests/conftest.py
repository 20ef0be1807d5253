"""Suite-wide isolation: no test reads or writes the user's own migrator state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.state import STATE_DIR_ENV


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(STATE_DIR_ENV, str(folder))
    yield folder
