"""Random faults against apply and rollback: one engine for the CI test (tests/apply/test_chaos_random.py,
a handful of repositories) and `bench/chaos.py` (100 repositories, several seeds, kill -9).

A scenario runs plan, apply and rollback twice, each against its own sandbox of the same seed: once clean,
once with seeded random faults on every endpoint (REST reads and writes, GraphQL queries and mutations, plan
and apply and rollback alike) and, if asked, a kill at a random point of apply and of rollback. After the
faulty run, the faults are removed and the same command runs again (the resume). The end states must be
the same: branches, the files on them, pull requests (state, labels, review requests), comments, and every
default branch untouched. Anything else is a mismatch; a second PR, label or comment is a duplicate.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.apply import pacing
from migrator.apply.journal import Journal
from migrator.cli import main
from migrator.github import retry
from migrator.sandbox.store import HEADS
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-chaos-0123456789ab"
ORG = "acme"
LABELS = ("--label", "migrator", "--reviewer", "octocat")
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
WENT_WRONG = (
    "Something went wrong while executing your query. This may be the result of a timeout, or it could be a "
    "GitHub bug. Please include `C4A0:5` when reporting this issue."
)
REST_WRITES = r"^/repos/[^/]+/[^/]+/(git/refs|pulls|issues/\d+/(labels|comments))"  # their reads too
ONCE = {"a day-long Retry-After (over --max-wait)"}  # per command: it stops the rest of the run
MATCHED_WEIGHT = 3.0  # about the summed weight of the kinds one request matches
QUERY = r"\"query\": \"\s*query "
MUTATION = r"\"query\": \"\s*mutation "


def _went_wrong() -> dict[str, Any]:
    return {"status": 200, "body": {"data": None, "errors": [{"message": WENT_WRONG}]}}


# (kind, match, response, after_apply, weight): every kind of failure the campaign met.
KINDS: tuple[tuple[str, dict[str, Any], dict[str, Any], bool, float], ...] = (
    ("502 on a REST read", {"method": "GET"}, {"status": 502, "body": {"message": "Server Error"}}, False, 1.0),
    ("504 on a GraphQL query", {"method": "POST", "body_regex": QUERY}, {"status": 504}, False, 0.5),
    ("'Something went wrong' on a GraphQL query", {"body_regex": QUERY}, _went_wrong(), False, 1.0),
    ("'Something went wrong' on a mutation", {"body_regex": MUTATION}, _went_wrong(), False, 0.5),
    ("502 on a REST write", {"path_regex": REST_WRITES}, {"status": 502}, False, 1.0),
    ("lost answer to a REST write", {"path_regex": REST_WRITES}, {"status": 502}, True, 1.0),
    ("lost answer to a mutation", {"body_regex": MUTATION}, {"status": 502}, True, 0.5),
    (
        "secondary limit with Retry-After",
        {},
        {"status": 403, "headers": {"Retry-After": "3"}, "body": {"message": SECONDARY}},
        False,
        0.5,
    ),
    ("secondary limit without Retry-After", {}, {"status": 403, "body": {"message": SECONDARY}}, False, 0.3),
    ("429 with Retry-After", {}, {"status": 429, "headers": {"Retry-After": "2"}}, False, 0.3),
    (
        "GraphQL RATE_LIMITED",
        {"body_regex": QUERY},
        {"status": 200, "body": {"data": None, "errors": [{"type": "RATE_LIMITED", "message": "API rate limit"}]}},
        False,
        0.3,
    ),
    (
        "a day-long Retry-After (over --max-wait)",
        {},
        {"status": 403, "headers": {"Retry-After": "86400"}, "body": {"message": SECONDARY}},
        False,
        0.005,
    ),
)


@dataclass
class Report:
    faults: int = 0
    requests: int = 0  # answered by the faulty sandbox
    kills: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    resumes_failed: list[str] = field(default_factory=list)

    def merge(self, other: Report) -> None:
        self.faults += other.faults
        self.requests += other.requests
        self.kills += other.kills
        self.outcomes.update(other.outcomes)
        self.mismatches += other.mismatches
        self.duplicates += other.duplicates
        self.resumes_failed += other.resumes_failed


KILLED = (130, -9)  # interrupted in process; kill -9 of a child
Runner = Callable[[Sandbox, list[str], "Kill | None"], tuple[int, str]]


@dataclass(frozen=True)
class Kill:
    """Stop the run at its `at`-th journal line (in process: an interrupt; `bench/chaos.py`: kill -9)."""

    at: int


def write_chaos_seed(directory: Path, repos: int) -> Path:
    names = {f"svc-{index:03d}": golden_tree("reference") for index in range(repos)}
    return write_seed(
        directory, {ORG: names}, org_meta={ORG: {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}}
    )


def add_faults(sandbox: Sandbox, rng: random.Random, rate: float) -> None:
    """Every kind, together failing about `rate` of all requests (each kind its weighted share)."""
    for kind, match, response, after_apply, weight in KINDS:
        fault = {
            "match": match,
            "response": response,
            "after_apply": after_apply,
            "times": 1 if kind in ONCE else None,
            "rate": min(1.0, rate * weight / MATCHED_WEIGHT),
            "seed": rng.randrange(2**32),
        }
        sandbox.add_fault(fault)


def clear_faults(sandbox: Sandbox) -> None:
    sandbox.app.faults.clear()


def end_state(sandbox: Sandbox) -> dict[str, Any]:
    """What a person would see on GitHub, without ids that differ between two sandboxes (commit times)."""
    state: dict[str, Any] = {}
    with sandbox.store.lock:
        org = sandbox.store.orgs[ORG]
        for name, repo in sorted(org.repos.items()):
            repo.ensure_loaded()
            branches = {}
            for ref, sha in sorted(repo.refs.items()):
                if ref.startswith(HEADS + "migrator/") or ref == HEADS + repo.default_branch:
                    files = {path: (entry.mode, entry.sha) for path, entry in repo.files_at(sha).items()}
                    branches[ref] = files if ref != HEADS + repo.default_branch else sha
            pulls = sorted(
                (
                    p.head_ref,
                    p.base_ref,
                    p.title,
                    p.state,
                    p.merged,
                    tuple(p.labels),
                    tuple(p.requested_reviewers),
                    tuple(sorted(c.body for c in repo.comments if c.issue_number == p.number)),
                )
                for p in repo.pulls.values()
            )
            state[name] = {"branches": branches, "pulls": pulls}
    return state


def duplicates(sandbox: Sandbox) -> list[str]:
    found = []
    with sandbox.store.lock:
        for name, repo in sorted(sandbox.store.orgs[ORG].repos.items()):
            heads = Counter(p.head_ref for p in repo.pulls.values())
            found += [f"{name}: {n} PRs from {head}" for head, n in heads.items() if n > 1]
            for pull in repo.pulls.values():
                lowered = [label.lower() for label in pull.labels]
                if len(set(lowered)) != len(lowered):
                    found.append(f"{name}#{pull.number}: a label twice")
                bodies = Counter(c.body for c in repo.comments if c.issue_number == pull.number)
                found += [f"{name}#{pull.number}: a comment {n} times" for body, n in bodies.items() if n > 1]
    return found


def in_process(sandbox: Sandbox, argv: list[str], kill: Kill | None) -> tuple[int, str]:
    """`migrator ARGV` in this process; a `Kill` interrupts it at that journal line, before it is written."""
    out = io.StringIO()
    with _killed_at(kill), redirect_stdout(out):
        code = main(["--quiet", *argv])
    return code, out.getvalue()


@contextmanager
def _killed_at(kill: Kill | None) -> Iterator[None]:
    real = Journal.record
    count = [0]

    def record(self: Journal, **event: Any) -> None:
        count[0] += 1
        if kill is not None and count[0] == kill.at:
            raise KeyboardInterrupt  # the write before this line happened; its journal line is lost
        real(self, **event)

    Journal.record = record  # type: ignore[method-assign]
    try:
        yield
    finally:
        Journal.record = real  # type: ignore[method-assign]


@contextmanager
def no_sleeping() -> Iterator[None]:
    """Waits are honoured in no time: the sleeps do nothing, and the pacer's own limits (which would spin on
    the real clock until a minute passes) are lifted; the sandbox's secondary limits are lifted to match."""
    saved = pacing._sleep, retry._sleep
    defaults = pacing.PaceSettings.__init__.__kwdefaults__
    saved_defaults = dict(defaults)
    pacing._sleep = retry._sleep = _no_sleep
    defaults.update(per_minute=10**6, per_hour=10**7)
    try:
        yield
    finally:
        pacing._sleep, retry._sleep = saved
        defaults.clear()
        defaults.update(saved_defaults)


def _no_sleep(seconds: float) -> None:
    del seconds


def _outcomes(stdout: str) -> Counter[str]:
    import json

    try:
        rows = json.loads(stdout)["repos"]
    except (ValueError, KeyError, TypeError):
        return Counter()
    return Counter(str(row["status"]) for row in rows)


def scenario(
    workdir: Path,
    *,
    seed: int,
    repos: int,
    rate: float,
    kills: bool,
    runner: Runner = in_process,
) -> Report:
    """One clean run and one faulty run of plan, apply and rollback; their end states compared."""
    rng = random.Random(seed)
    report = Report()
    seed_dir = write_chaos_seed(workdir / "seed", repos)
    states: dict[str, list[dict[str, Any]]] = {}
    settings = {"secondary_per_minute": 10**6, "secondary_per_hour": 10**7, "core_limit": 10**7}
    for run in ("clean", "chaos"):
        plans = workdir / run
        plans.mkdir()
        path = plans / "plan.json"
        with running_sandbox(seed_dir, **settings) as sandbox:
            common = ["--api-url", sandbox.url]
            faulty = run == "chaos"
            if faulty:
                add_faults(sandbox, rng, rate)
            steps: list[tuple[str, list[str]]] = [
                ("plan", ["plan", "--org", ORG, "--plan-id", "chaos", "--out", str(path), *common]),
                ("apply", ["apply", str(path), "--min-interval", "0", "--format", "json", *LABELS, *common]),
                ("rollback", ["rollback", str(path), "--min-interval", "0", "--format", "json", *common]),
            ]
            captured = []
            for step, argv in steps:
                kill = Kill(rng.randint(1, 2 * repos)) if faulty and kills and step != "plan" else None
                code, stdout = runner(sandbox, argv, kill)
                report.kills += int(code in KILLED)
                if faulty:
                    report.outcomes.update(f"{step} {status}" for status in _outcomes(stdout).elements())
                    if code in KILLED:  # resumed under the same faults
                        code, stdout = runner(sandbox, argv, None)
                        report.outcomes.update(f"{step} {status}" for status in _outcomes(stdout).elements())
                    if code != 0:  # the clean re-run: the same command, the faults gone
                        clear_faults(sandbox)
                        code, stdout = runner(sandbox, argv, None)
                        report.outcomes.update(f"{step} resumed: {status}" for status in _outcomes(stdout).elements())
                        add_faults(sandbox, rng, rate)
                if code != 0:
                    report.resumes_failed.append(f"seed {seed} {run} {step}: exit {code} {stdout[-300:]}")
                captured.append(end_state(sandbox))
            if faulty:
                report.faults += int(sandbox.stats()["faults_fired"])
                report.requests += int(sandbox.stats()["requests"])
                report.duplicates += [f"seed {seed}: {d}" for d in duplicates(sandbox)]
            states[run] = captured
    for (step, _), clean, chaos in zip(steps[1:], states["clean"][1:], states["chaos"][1:], strict=True):
        for name in sorted(set(clean) | set(chaos)):
            if clean.get(name) != chaos.get(name):
                report.mismatches.append(f"seed {seed} after {step}: {name} differs")
    return report
