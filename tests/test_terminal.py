"""What a person sees on a terminal: per-repository info lines wait for -v, `show` pages through $PAGER, the
progress line draws only on a terminal, and `../shared` is required in CI."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from migrator import log
from migrator.progress import Progress, page
from tests import shared


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_per_repository_info_lines_stay_off_a_terminal_unless_verbose() -> None:
    for verbose, expected in ((False, 0), (True, 1)):
        screen = _Terminal()
        log.configure(stream=screen, verbose=verbose)
        log.get_logger(repo="acme/app", step="apply").info("repo done")
        log.get_logger(step="plan").info("not about one repository")
        log.get_logger(repo="acme/app", step="apply").warning("throttled")
        text = screen.getvalue()
        assert text.count("repo done") == expected and "not about one repository" in text and "throttled" in text
    piped = io.StringIO()  # off a terminal: JSON lines, all of them
    log.configure(stream=piped)
    log.get_logger(repo="acme/app", step="apply").info("repo done")
    assert '"event": "repo done"' in piped.getvalue()


def test_show_pages_through_the_pager_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"tee {seen}")
    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    page("a long plan\n", enabled=True)
    assert seen.read_text() == "a long plan\n"  # the pager got it (and wrote the terminal itself)
    seen.unlink()
    page("again\n", enabled=False)  # --no-pager
    assert not seen.exists() and out.getvalue() == "again\n"
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # not a terminal: never paged
    page("piped\n", enabled=True)
    assert not seen.exists()


def test_the_progress_line_draws_only_on_a_terminal_with_one_eta() -> None:
    piped = io.StringIO()
    with Progress("applying", stream=piped, eta=lambda done, total: 30.0) as progress:
        progress(1, 4, "acme/a")
    assert piped.getvalue() == ""
    clock = iter([0.0, 10.0, 10.0])
    slow = Progress("applying", stream=piped, eta=lambda done, total: 5.0, clock=lambda: next(clock))
    slow._done, slow._total = 1, 4  # one of four done in 10 s: the rate says 30 s, the pacing only 5
    assert slow.eta_seconds() == 30.0  # the slower of the two, never both


def test_ci_without_shared_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "SHARED", Path("/nonexistent/shared"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="CI must have /nonexistent/shared/github-reference"):
        shared.needs_shared("github-reference")
    monkeypatch.delenv("CI")
    assert shared.needs_shared("github-reference").name == "skip"
