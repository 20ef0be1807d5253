"""`migrator demo`: the whole flow against a local sandbox, narrated, in one command.

It seeds a small organisation with one repository per case, serves it, and runs
the real commands in turn: plan, show, apply, merge (of one PR),
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
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from migrator.errors import EXIT_OK, RemoteError
from migrator.paths import writable_file

STEPS = 11
RELEASE_WORKFLOW = ".github/workflows/main.yml"


EXAMPLES = """\
  $ migrator demo                             # the whole flow against a local GitHub, narrated
  $ migrator demo --keep /tmp/demo            # keep the seed, plan and journal
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the seed, plan and journal in DIR")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="where the HTML report goes (default: DIR/report.html with --keep, else ./migrator-demo-report.html)",
    )


def run(args: argparse.Namespace) -> int:
    from migrator.cli import main as migrator
    from migrator.demo.seed import ORG, TOKEN, write_demo_seed
    from migrator.sandbox.testing import running_sandbox

    report = args.report or (args.keep / "report.html" if args.keep else Path("migrator-demo-report.html"))
    writable_file(report, "--report", create_folders=args.report is None)
    with (
        _workdir(args.keep) as work,
        running_sandbox(write_demo_seed(work / "seed")) as sandbox,
        _environment(GITHUB_TOKEN=TOKEN, GH_TOKEN=None, MIGRATOR_STATE_DIR=str(work / "state")),
    ):
        plan = work / "plan.json"
        api = ["--api-url", sandbox.url]
        github = _GitHub(sandbox.url, TOKEN)
        _say(1, f"A local GitHub is serving `{ORG}` at {sandbox.url}: six repositories, one per case.")
        _say(2, f"A developer pushes a `fix:` commit to {ORG}/api. Its release run fails, as in the seed repository:")
        github.push(f"{ORG}/api", "fix: handle empty input")
        github.describe_release(f"{ORG}/api")
        _say(3, "Plan: read every repository in bulk (GraphQL), run the rules, write a reviewable plan file.")
        _run(migrator, ["plan", "--org", ORG, "--out", str(plan), *api])
        _say(4, "Show: what the plan would change and why (safe, review, blocked), for its approver.")
        _run(
            migrator,
            ["show", str(plan), "--no-pager", "--color", "always" if sys.stdout.isatty() else "never"],
            tail=32,
        )
        _say(5, "Apply: one branch, one verified commit and one pull request per repository, paced and journaled.")
        _run(migrator, ["apply", str(plan), "--min-interval", "0.25", *api], expect=(0, 1))
        _say(
            6,
            f"Merge the pull request in {ORG}/api, as its rules allow. The merge is a push: the release runs again, "
            "with the PAT, and each image tag is pushed once (the duplicate docker workflow that would have raced is "
            "gone).",
        )
        _run(migrator, ["merge", str(plan), "--repo", f"{ORG}/api", "--min-interval", "0.25", *api])
        github.describe_release(f"{ORG}/api")
        _say(7, "Status reads every PR, its review and its checks in bulk.")
        _run(migrator, ["status", str(plan), *api])
        _say(8, "Rollback: close the open PRs and delete their branches; open a revert PR for the merged one.")
        _run(migrator, ["rollback", str(plan), "--yes", "--min-interval", "0.25", *api])
        _say(9, "Status again: the open PRs are closed, the merged one stays merged, its revert PR waits.")
        _run(migrator, ["status", str(plan), *api])
        _say(10, "Verify: a campaign is done when releases work, not when PRs merge. The merged fix, judged:")
        _run(migrator, ["verify", str(plan), "--image-source", "sandbox", *api], expect=(0, 1))
        _say(11, f"Report: the campaign as one offline HTML page (burndown, tables, evidence), in {report}. Done.")
        _run(migrator, ["report", str(plan), "--image-source", "sandbox", "--out", str(report), *api])
        print(
            "\nAgainst a real organisation: export GITHUB_TOKEN=…; migrator plan --org YOUR_ORG -o plan.json; "
            "migrator show plan.json; migrator apply plan.json --limit 5"
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


class _GitHub:
    """The few REST calls the demo makes as the people around migrator: a developer, a reviewer."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={**self.headers, "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode(),
        )
        try:
            with urllib.request.urlopen(request) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise RemoteError(f"the demo stopped: {method} {path} answered {error.code}") from None
        return json.loads(raw) if raw else None

    def push(self, repo: str, message: str) -> None:
        self.call(
            "POST",
            f"/_sandbox/repos/{repo}/commit",
            {"branch": "main", "message": message, "files": {"src/input.js": f"// {message}\n"}},
        )
        print(f"(pushed `{message}` to {repo}:main)")

    def describe_release(self, repo: str) -> None:
        """The latest release run on main, its failing step and GitHub's refusal; the tag, release and images."""
        runs = self.call("GET", f"/repos/{repo}/actions/runs?branch=main&event=push")["workflow_runs"]
        runs = [r for r in runs if r["path"] == RELEASE_WORKFLOW]
        if not runs:
            print("   no release run yet")
            return
        latest = max(runs, key=lambda r: r["run_number"])
        jobs = self.call("GET", f"/repos/{repo}/actions/runs/{latest['id']}/jobs")["jobs"]
        verdicts = ", ".join(f"{j['name']} {j['conclusion']}" for j in jobs)
        print(f"   run #{latest['run_number']} ({latest['path']}): {latest['conclusion']}: {verdicts}")
        for job in jobs:
            failed = [step["name"] for step in job.get("steps", ()) if step.get("conclusion") == "failure"]
            if failed:
                print(f"   {job['name']} failed at step {failed[0]}: {self._refusal(repo, job['id'])}")
        tags = [t["name"] for t in self.call("GET", f"/repos/{repo}/tags") or ()]
        release = self.call("GET", f"/repos/{repo}/releases/latest")
        made = f"release {release['tag_name']} by {release['author']['login']}" if release else "no release"
        print(f"   tags: {', '.join(tags) or 'none'}; {made}")
        pushes = [p for p in self.call("GET", "/_sandbox/registry")["pushes"] if p["repository"] == repo]
        for reference, count in sorted(Counter(f"{p['image']}:{p['tag']}" for p in pushes).items()):
            print(f"   image {reference} pushed by {count} run(s)")
        if not pushes:
            print("   no image pushed")

    def _refusal(self, repo: str, job_id: int) -> str:
        request = urllib.request.Request(f"{self.url}/repos/{repo}/actions/jobs/{job_id}/logs", headers=self.headers)
        with urllib.request.urlopen(request) as response:
            log = response.read().decode("utf-8", "replace").splitlines()
        wanted = [line.strip() for line in log if "EGITNOPERMISSION" in line or "GH006" in line]
        return " / ".join(wanted[:2]) or "see the run's log"


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="migrator-demo-") as tmp:
        yield Path(tmp)


@contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """The demo's token, and a state folder of its own: the user's last apply is never replaced by the demo's."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
