"""Hostile repository content (alias bombs, deep nesting, huge, binary and invalid files, symbolic links) never
stalls or breaks the Actions model: the ordinary workflows next to them run, unreadable ones start nothing, and the
model's memory stays within the hostile-input bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.sandbox.generate import HOSTILE_KINDS, generate_hostile
from migrator.sandbox.testing import FakeClock, running_sandbox
from tests.bounds import MEMORY_BOUND, guarded, peak_memory
from tests.sandbox.support import call


@pytest.mark.parametrize("kind", sorted(HOSTILE_KINDS))
def test_a_push_to_a_hostile_repository_runs_only_its_ordinary_workflows(tmp_path: Path, kind: str) -> None:
    seed = generate_hostile(tmp_path, org="hostile", kinds=[kind])
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        with sandbox.store.lock:
            repo = sandbox.store.repo("hostile", f"hostile-{kind}")  # read the seed first: its size is not ours
        assert repo is not None

        def push() -> int:
            return call(sandbox, "POST", f"/_sandbox/repos/hostile/hostile-{kind}/commit", token=None,
                        body={"branch": "main", "message": "fix: a bug", "files": {"a.txt": "a"}})[0]

        with peak_memory() as peak:
            assert guarded(push) == 201
        assert peak[0] < MEMORY_BOUND
        ran = {run.path for run in repo.runs.values()}
        ordinary = {".github/workflows/ci.yml", ".github/workflows/release.yml"}
        if kind == "symlinked-folders":
            assert ran == set()  # .github/workflows is a link: git holds no workflow files
        else:
            assert ordinary <= ran
            assert ran - ordinary <= {".github/workflows/bomb.yml", ".github/workflows/cycle.yml"}  # anchors are YAML
        assert sandbox.actions_errors() == []
