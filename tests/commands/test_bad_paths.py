"""Every command that takes a path, given every kind of bad one: one line, exit 2, and not one request."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-admin-0123456789"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path_factory.mktemp("seed"),
        {"acme": {"service": golden_tree("reference")}},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed) as running:
        yield running


def _directory(tmp: Path, _: pytest.MonkeyPatch) -> Path:
    (tmp / "folder").mkdir()
    return tmp / "folder"


def _missing(tmp: Path, _: pytest.MonkeyPatch) -> Path:
    return tmp / "nope.json"


def _under_a_file(tmp: Path, _: pytest.MonkeyPatch) -> Path:
    (tmp / "file.json").write_text("{}")
    return tmp / "file.json" / "plan.json"


def _fifo(tmp: Path, _: pytest.MonkeyPatch) -> Path:
    os.mkfifo(tmp / "pipe.json")
    return tmp / "pipe.json"


def _unreadable(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the kernel's answer what an ordinary user gets
        real_open = os.open

        def refusing(target: object, *args: object, **kwargs: object) -> int:
            if Path(str(target)) == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(target))
            return real_open(target, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", refusing)
    return path


KINDS: dict[str, Callable[[Path, pytest.MonkeyPatch], Path]] = {
    "directory": _directory,
    "missing": _missing,
    "under a file": _under_a_file,
    "not a file": _fifo,
    "unreadable": _unreadable,
}
READERS: dict[str, Callable[[Path, str], list[str]]] = {
    "show": lambda p, _: ["show", str(p)],
    "apply": lambda p, url: ["apply", str(p), "--api-url", url],
    "status": lambda p, url: ["status", str(p), "--api-url", url],
    "rollback": lambda p, url: ["rollback", str(p), "--yes", "--api-url", url],
    "plan merge": lambda p, _: ["plan", "merge", str(p)],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("command", sorted(READERS))
def test_a_bad_plan_path_is_one_line_and_no_request(
    command: str,
    kind: str,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    path = KINDS[kind](tmp_path, monkeypatch)
    sandbox.clear_requests()
    assert main(READERS[command](path, sandbox.url)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("migrator: error: ") and str(path) in err[0], err
    assert "Traceback" not in err[0]
    assert sandbox.requests() == []


def _unwritable(tmp: Path, _: pytest.MonkeyPatch) -> Path:
    return Path("/sys/migrator-plan.json")  # sysfs refuses new files, even to root


WRITERS: dict[str, Callable[[Path, pytest.MonkeyPatch], Path]] = {
    "directory": _directory,
    "under a file": _under_a_file,
    "not a file": _fifo,
    "unwritable": _unwritable,
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_bad_out_path_is_refused_before_the_org_is_read(
    kind: str, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    out = WRITERS[kind](tmp_path, monkeypatch)
    if kind == "unwritable" and not Path("/sys").is_dir():
        pytest.skip("no sysfs here")
    sandbox.clear_requests()
    assert main(["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("migrator: error: --out ") and "Traceback" not in err[0], err
    assert sandbox.requests() == []


def test_out_in_a_folder_that_does_not_exist_is_refused_but_the_default_plans_folder_is_made(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "typo" / "plan.json"
    sandbox.clear_requests()
    assert main(["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(out)]) == 2
    assert f"the folder {out.parent} does not exist; create it first" in capsys.readouterr().err
    assert not out.parent.exists() and sandbox.requests() == []
    assert main(["plan", "--org", "acme", "--api-url", sandbox.url]) == 0  # plans/ is the default: made for you
    written = list((tmp_path / "plans").glob("*.json"))
    assert len(written) == 1 and not list((tmp_path / "plans").glob(".*"))  # no probe or temp file left behind
