"""The cost of `verify`: requests per verified repository at 1,000 merged fixes, next to a naive REST verifier.

    python bench/bench_verify.py [--repos 1000] [--naive-repos 200]

Seeds an org whose every repository releases with the PAT, merges one `fix:` PR in each (the Actions model runs
the release: tag, release, image), then measures side by side in one run:

  migrator   the reader `verify` uses (one GraphQL query per 25 repositories) plus one read of the sandbox's
             registry, judged: requests per verified repository (the issue's target: at most 0.1)
  naive      per repository, REST: the PR, the runs on its merge commit, the release run's jobs, the tags and
             the releases; run on the first --naive-repos repositories and reported per repository

and prints both and their ratio.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrator.github import connect
from migrator.github.verify import VerifyTarget
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from migrator.verify.model import Verdict
from migrator.verify.reading import read_facts, verdicts

ORG = "bench-org"
TOKEN = "bench-token-not-a-secret"
PAT = "bench-release-pat"
WORKFLOW = ".github/workflows/main.yml"
MAIN = """name: CI/CD
on:
  push:
    branches: [main]
jobs:
  release:
    runs-on: ubuntu-latest
    outputs:
      published: ${{ steps.semantic.outputs.new_release_published }}
      version: ${{ steps.semantic.outputs.new_release_version }}
    steps:
      - uses: actions/checkout@v4
        with:
          token: ${{ secrets.PAT_TOKEN }}
      - id: semantic
        run: npx semantic-release
        env:
          GITHUB_TOKEN: ${{ secrets.PAT_TOKEN }}
  docker:
    needs: release
    if: needs.release.outputs.published == 'true'
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/${{ github.repository }}:${{ needs.release.outputs.version }}
"""


def gh(sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        sandbox.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def seed(root: Path, repos: int) -> Path:
    files = {"README.md": "# app\n", "package.json": '{"name": "app"}\n', WORKFLOW: MAIN}
    return write_seed(
        root, {ORG: {f"app-{i:04d}": dict(files) for i in range(repos)}},
        org_meta={ORG: {"secrets": {"PAT_TOKEN": PAT},
                        "tokens": {TOKEN: {"power": "full", "login": "platform-bot"},
                                   PAT: {"power": "full", "login": "release-bot"}}}},
    )


def merge_a_fix(sandbox: Sandbox, repo: str) -> int:
    head = gh(sandbox, "GET", f"/repos/{repo}/git/ref/heads/main")["object"]["sha"]
    gh(sandbox, "POST", f"/repos/{repo}/git/refs", {"ref": "refs/heads/migrator/fix", "sha": head})
    gh(sandbox, "PUT", f"/repos/{repo}/contents/src/fix.txt",
       {"message": "fix: handle empty input", "branch": "migrator/fix", "content": base64.b64encode(b"x").decode()})
    pull = gh(sandbox, "POST", f"/repos/{repo}/pulls",
              {"title": "fix: handle empty input", "head": "migrator/fix", "base": "main"})
    gh(sandbox, "PUT", f"/repos/{repo}/pulls/{pull['number']}/merge", {"merge_method": "squash"})
    return int(pull["number"])


def naive(sandbox: Sandbox, repo: str, number: int) -> bool:
    """What a verifier without bulk reads does, per repository: five REST reads."""
    pull = gh(sandbox, "GET", f"/repos/{repo}/pulls/{number}")
    runs = gh(sandbox, "GET", f"/repos/{repo}/actions/runs?head_sha={pull['merge_commit_sha']}")["workflow_runs"]
    release = next(r for r in runs if r["path"] == WORKFLOW)
    jobs = gh(sandbox, "GET", f"/repos/{repo}/actions/runs/{release['id']}/jobs")["jobs"]
    tags = gh(sandbox, "GET", f"/repos/{repo}/tags")
    releases = gh(sandbox, "GET", f"/repos/{repo}/releases")
    return bool(release["conclusion"] == "success" and all(j["conclusion"] == "success" for j in jobs)
                and tags and releases)


def requests_during(sandbox: Sandbox, work: Any) -> tuple[int, float, Any]:
    sandbox.clear_requests()
    started = time.perf_counter()
    result = work()
    return len(sandbox.requests()), time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000, help="merged fixes to verify")
    parser.add_argument("--naive-repos", type=int, default=200, help="how many the naive verifier reads")
    args = parser.parse_args()
    os.environ["GITHUB_TOKEN"] = TOKEN
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp, \
            running_sandbox(seed(Path(tmp), args.repos), core_limit=10**8, graphql_limit=10**8,
                            secondary_per_minute=10**8, secondary_per_hour=10**8) as sandbox:
        print(f"merging {args.repos} fixes (the release runs in the sandbox's Actions model)…", file=sys.stderr)
        targets = [VerifyTarget(f"{ORG}/app-{i:04d}", merge_a_fix(sandbox, f"{ORG}/app-{i:04d}"), (WORKFLOW,))
                   for i in range(args.repos)]
        client = connect(api_url=sandbox.url)
        before = client.usage.rest_requests + client.usage.graphql_requests
        served, seconds, judged = requests_during(
            sandbox, lambda: verdicts(read_facts(client, targets, image_source="sandbox")))
        count = client.usage.rest_requests + client.usage.graphql_requests - before  # the registry read included
        assert count >= served, (count, served)
        verified = sum(1 for j in judged if j.verdict is Verdict.VERIFIED)
        client.set_jobs(4)  # the CLI's default: four queries in flight, the same requests
        github_before = client.usage.rest_requests + client.usage.graphql_requests
        _, github_seconds, github_judged = requests_during(
            sandbox, lambda: verdicts(read_facts(client, targets, image_source="jobs")))
        github_count = client.usage.rest_requests + client.usage.graphql_requests - github_before
        github_verified = sum(1 for j in github_judged if j.verdict is Verdict.VERIFIED)
        subset = targets[: args.naive_repos]
        naive_count, naive_seconds, ok = requests_during(
            sandbox, lambda: [naive(sandbox, t.repo, t.pr_number) for t in subset])
    ours = count / max(verified, 1)
    theirs = naive_count / max(sum(ok), 1)
    print(f"migrator verify: {count} requests for {verified}/{args.repos} verified repositories "
          f"= {ours:.3f} requests per verified repository ({seconds:.1f} s; target <= 0.1)")
    print(f"as against GitHub (image pushes from the runs' jobs, GHCR asked where two runs built one image; "
          f"--jobs 4): {github_count} requests for {github_verified}/{args.repos} verified "
          f"= {github_count / max(github_verified, 1):.3f} per verified repository ({github_seconds:.1f} s)")
    print(f"naive REST:      {naive_count} requests for {sum(ok)}/{len(subset)} repositories "
          f"= {theirs:.2f} requests per verified repository ({naive_seconds:.1f} s)")
    print(f"ratio: the naive verifier sends {theirs / ours:.0f}x the requests")
    if verified != args.repos:
        sys.exit(f"only {verified} of {args.repos} verified")


if __name__ == "__main__":
    main()
