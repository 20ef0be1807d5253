"""Rules from other packages: discovered through the `migrator.rules` entry point group, listed by `check --help`,
run by `check` and `plan` like the built-in rules; a broken plugin is left out with a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrator import log
from migrator.cli import main
from migrator.rules import REGISTRY, load_registry
from migrator.sandbox.testing import running_sandbox, write_seed

SITE = Path(__file__).resolve().parents[1] / "plugins" / "site"
OLD_CHECKOUT = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v2\n"


def test_a_plugin_is_discovered_after_the_builtin_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SITE))
    assert list(load_registry()) == ["token-mismatch", "redundant-docker", "release-app-token", "example-old-checkout"]


def test_a_broken_plugin_is_left_out_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    info = tmp_path / "broken_rule-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-rule\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[migrator.rules]\nbroken = no_such_module:RULE\ntaken = migrator.rules.token_mismatch:RULE\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    log.configure(json=True)  # to stderr, which capsys reads
    assert list(load_registry()) == ["token-mismatch", "redundant-docker", "release-app-token"]
    err = capsys.readouterr().err
    assert "no_such_module:RULE" in err and "failed to load" in err and "rule id 'token-mismatch' is taken" in err


def _migrator(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "migrator", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_lists_and_runs_an_installed_plugin(tmp_path: Path) -> None:
    checkout = tmp_path / "app"
    (checkout / ".github" / "workflows").mkdir(parents=True)
    (checkout / ".github" / "workflows" / "ci.yml").write_text(OLD_CHECKOUT)
    helped = _migrator("check", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "example-old-checkout" in helped.stdout
    checked = _migrator("check", str(checkout), "--rule", "example-old-checkout", cwd=tmp_path)
    assert ".github/workflows/ci.yml:6:9: example-old-checkout [note] an old actions/checkout" in checked.stdout


def test_plan_runs_a_registered_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SITE))
    plugin = load_registry()["example-old-checkout"]
    monkeypatch.setitem(REGISTRY, plugin.rule_id, plugin)
    seed = write_seed(tmp_path / "seed", {"acme": {"app": {".github/workflows/ci.yml": OLD_CHECKOUT}}})
    monkeypatch.setenv("GITHUB_TOKEN", "any-token")
    with running_sandbox(seed) as sandbox:
        out = tmp_path / "plan.json"
        assert main(["-q", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert "example-old-checkout" in data["rules"]["enabled"]
    assert any("example-old-checkout [note] an old actions/checkout" in n["message"] for n in data["notices"])
