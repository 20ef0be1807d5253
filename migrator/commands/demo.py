"""`migrator demo`: the whole flow against a local sandbox, narrated, in one command.

It seeds a small organisation with one repository per case, serves it, and runs
the real commands in turn: plan, show, apply, (a reviewer merges one PR),
status, rollback, status. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from migrator.errors import EXIT_OK, RemoteError

STEPS = 7


EXAMPLES = """\
  $ migrator demo                             # the whole flow against a local GitHub, narrated
  $ migrator demo --keep /tmp/demo            # keep the seed, plan and journal
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the seed, plan and journal in DIR")


def run(args: argparse.Namespace) -> int:
    from migrator.cli import main as migrator
    from migrator.demo.seed import ORG, TOKEN, write_demo_seed
    from migrator.sandbox.testing import running_sandbox

    with _workdir(args.keep) as work, running_sandbox(write_demo_seed(work / "seed")) as sandbox, _token(TOKEN):
        plan = work / "plan.json"
        api = ["--api-url", sandbox.url]
        _say(1, f"A local GitHub is serving `{ORG}` at {sandbox.url}: six repositories, one per case.")
        _say(2, "Plan: read every repository in bulk (GraphQL), run the rules, write a reviewable plan file.")
        _run(migrator, ["plan", "--org", ORG, "--out", str(plan), *api])
        _say(3, "Show: what the plan would change and why (safe, review, blocked), with the diffs.")
        _run(migrator, ["show", str(plan), "--color", "always" if sys.stdout.isatty() else "never"], tail=30)
        _say(4, "Apply: one branch, one verified commit and one pull request per repository, paced and journaled.")
        _run(migrator, ["apply", str(plan), "--min-interval", "0.25", *api], expect=(0, 1))
        _say(5, f"A reviewer merges the pull request in {ORG}/api; then status reads every PR and its checks.")
        _merge(sandbox.url, f"{ORG}/api", TOKEN)
        _run(migrator, ["status", str(plan), *api])
        _say(6, "Rollback: close the open PRs and delete their branches; open a revert PR for the merged one.")
        _run(migrator, ["rollback", str(plan), "--min-interval", "0.25", *api])
        _say(7, "Status again: the open PRs are closed, the merged one stays merged, its revert PR waits. Done.")
        _run(migrator, ["status", str(plan), *api])
        print(
            "\nAgainst a real organisation: export GITHUB_TOKEN=…; migrator plan --org YOUR_ORG; "
            "migrator show plans/<plan>.json; migrator apply plans/<plan>.json --limit 5"
        )
    return EXIT_OK


def _say(step: int, text: str) -> None:
    print(f"\n==> [{step}/{STEPS}] {text}", flush=True)


def _run(
    migrator: Callable[[list[str]], int], argv: list[str], *, expect: tuple[int, ...] = (0,), tail: int | None = None
) -> None:
    """Run one real command as the user would type it; with `tail`, show only its first lines."""
    print(f"$ migrator {' '.join(argv)}", flush=True)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer) if tail is not None else contextlib.nullcontext():
        code = migrator(["--quiet", *argv])
    if tail is not None:
        lines = buffer.getvalue().splitlines()
        print("\n".join(lines[:tail]) + (f"\n… ({len(lines) - tail} more lines)" if len(lines) > tail else ""))
    if code not in expect:
        raise RemoteError(f"the demo stopped: `migrator {argv[0]}` exited {code}")


def _merge(url: str, repo: str, token: str) -> None:
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}
    listing = urllib.request.Request(f"{url}/repos/{repo}/pulls?state=open", headers=headers)
    with urllib.request.urlopen(listing) as response:
        pulls = json.loads(response.read())
    if not pulls:
        raise RemoteError(f"the demo expected an open pull request in {repo}")
    number = pulls[0]["number"]
    merge = urllib.request.Request(
        f"{url}/repos/{repo}/pulls/{number}/merge",
        method="PUT",
        headers={**headers, "Content-Type": "application/json"},
        data=b"{}",
    )
    with urllib.request.urlopen(merge):
        print(f"(merged {repo}#{number})")


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="migrator-demo-") as tmp:
        yield Path(tmp)


@contextmanager
def _token(token: str) -> Iterator[None]:
    saved = {name: os.environ.pop(name, None) for name in ("GITHUB_TOKEN", "GH_TOKEN")}
    os.environ["GITHUB_TOKEN"] = token
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
