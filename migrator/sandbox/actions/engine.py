"""The Actions model's engine: events in, workflow runs (jobs, steps, check runs) and their writes out.

Runs finish before the write that started them is answered, unless a delay is set: then a run is `in_progress`
(its check runs too) until the store's clock passes its due time, and it acts (tags, releases, image pushes) when
the next request after that is served. The writes of a run are events in their turn, to a bounded depth.

GitHub docs followed here: "Using jobs: `needs`" (a job whose needs did not all succeed is skipped unless its
`if:` uses a status function), "Using conditions to control job execution", "Skipping workflow runs" (a push whose
head commit message has `[skip ci]`, `[ci skip]`, `[no ci]`, `[skip actions]` or `[actions skip]` starts no push
or pull_request run), and "About workflows" (every job of a run is a check run on the event's commit, in the run's
check suite).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from migrator.sandbox.actions import credentials
from migrator.sandbox.actions.credentials import Credential
from migrator.sandbox.actions.documents import Job, Workflow, is_workflow_file, parse_workflow
from migrator.sandbox.actions.expressions import condition, interpolate
from migrator.sandbox.actions.model import JobRecord, StepRecord, WorkflowRun
from migrator.sandbox.actions.runtime import JobContext
from migrator.sandbox.actions.steps import run_step
from migrator.sandbox.actions.triggers import Event, starts
from migrator.sandbox.store import HEADS, REF_LOG, CheckRun, PullRequest, RefChange, Repo, Store

MAX_CHAIN_DEPTH = 4  # push -> release -> builds -> ... : events deeper than this start nothing
SKIP_MARKERS = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
STATUS_FUNCTION = re.compile(r"\b(always|failure|cancelled)\s*\(")


@dataclass(frozen=True)
class _Pending:
    repo: Repo
    workflow: Workflow
    event: Event
    run_id: int


class Engine:
    def __init__(self, store: Store, *, delay: float = 0.0, enabled: bool = True) -> None:
        self.store = store
        self.delay = delay
        self.enabled = enabled
        self.truncated = 0  # events not followed because the chain was too deep
        self.errors: list[str] = []  # model failures (never turned into API errors)
        self._pending: list[_Pending] = []
        self._parsed: dict[tuple[str, str], Workflow] = {}

    # ------------------------------------------------------------ entry points

    def after_writes(self, changes: Iterable[RefChange], actor: str,
                     opened: Iterable[tuple[Repo, int, str]] = ()) -> None:
        """The pushes a request made (ref moves and creations) become push events credited to `actor`, and so
        do the pull requests it opened or whose head branch it pushed (`pull_request` events)."""
        pushed = [c for c in changes if c.after is not None]
        events = [(c.repo, self._push_event(c, actor)) for c in pushed]
        new = {(repo.full_name, number) for repo, number, _action in opened}
        for repo, number, action in opened:
            events.append((repo, self._pull_event(repo, repo.pulls[number], action, actor)))
        for change in pushed:
            for pull in self._pulls_with_head(change):
                if (change.repo.full_name, pull.number) not in new:
                    events.append((change.repo, self._pull_event(change.repo, pull, "synchronize", actor)))
        if self.enabled and events:
            self._process(events)

    def handle(self, repo: Repo, event: Event) -> None:
        """One event, as if it had just happened (and every run it leads to)."""
        if self.enabled:
            self._process([(repo, event)])

    def tick(self) -> None:
        """Finish the delayed runs whose time has come (their writes start more runs)."""
        now = self.store.clock()
        due = [p for p in self._pending if p.repo.runs[p.run_id].due_at <= now]
        if not due:
            return
        self._pending = [p for p in self._pending if p not in due]
        follow: list[tuple[Repo, Event]] = []
        with _no_ref_log():
            for item in due:
                follow += [(item.repo, e) for e in self._execute(item.repo, item.workflow, item.event, item.run_id)]
        self._process(follow)

    # ------------------------------------------------------------ events to runs

    def _push_event(self, change: RefChange, actor: str) -> Event:
        repo, before = change.repo, change.before
        after = str(change.after)
        changed: tuple[str, ...] = ()
        if not change.ref.startswith("refs/tags/") and after in repo.git.commits:
            base = before if before in repo.git.commits else None
            old = repo.files_at(base) if base else {}
            new = repo.files_at(after)
            changed = tuple(sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p)))
        return Event("push", change.ref, after, actor, changed=changed, before=before)

    @staticmethod
    def _pulls_with_head(change: RefChange) -> list[PullRequest]:
        branch = branch_of(change.ref)
        return [p for p in change.repo.pulls.values() if p.state == "open" and p.head_ref == branch]

    def _pull_event(self, repo: Repo, pull: PullRequest, action: str, actor: str) -> Event:
        """GitHub docs, "Events that trigger workflows: pull_request": GITHUB_REF is refs/pull/N/merge; the
        checks are reported on the head commit, which is what the model runs (and reads the workflows of)."""
        head = self.store.head_sha(repo, pull)
        base = repo.branch_sha(pull.base_ref)
        merge_base = repo.git.merge_base(head, base) if base and head in repo.git.commits else None
        old = repo.files_at(merge_base) if merge_base else {}
        new = repo.files_at(head) if head in repo.git.commits else {}
        changed = tuple(sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p)))
        return Event("pull_request", f"refs/pull/{pull.number}/merge", head, actor, action=action, changed=changed,
                     base_ref=pull.base_ref, head_ref=pull.head_ref, pull_number=pull.number)

    def _process(self, events: list[tuple[Repo, Event]]) -> None:
        queue = deque(events)
        with _no_ref_log():
            while queue:
                repo, event = queue.popleft()
                if event.depth > MAX_CHAIN_DEPTH:
                    self.truncated += 1
                    continue
                queue.extend((repo, e) for e in self._dispatch(repo, event))

    def _dispatch(self, repo: Repo, event: Event) -> list[Event]:
        if event.sha not in repo.git.commits or _skipped(repo, event):
            return []
        follow: list[Event] = []
        for workflow in self.workflows(repo, event.sha):
            if not starts(workflow, event):
                continue
            run_id = self._start(repo, workflow, event)
            if self.delay > 0:
                self._pending.append(_Pending(repo, workflow, event, run_id))
            else:
                follow += self._execute(repo, workflow, event, run_id)
        return follow

    def workflows(self, repo: Repo, sha: str) -> list[Workflow]:
        """The workflows GitHub reads at a commit: files directly in .github/workflows/."""
        found = []
        for path, entry in sorted(repo.files_at(sha).items()):
            if is_workflow_file(path) and entry.mode != "120000":
                key = (path, entry.sha)
                if key not in self._parsed:
                    self._parsed[key] = parse_workflow(path, repo.git.blobs[entry.sha])
                found.append(self._parsed[key])
        return found

    def workflow_id(self, repo: Repo, path: str) -> int:
        if path not in repo.workflow_ids:
            repo.workflow_ids[path] = self.store.next_id("workflow")
        return repo.workflow_ids[path]

    # ------------------------------------------------------------ runs

    def _start(self, repo: Repo, workflow: Workflow, event: Event) -> int:
        now = self.store.clock()
        workflow_id = self.workflow_id(repo, workflow.path)
        number = 1 + sum(1 for r in repo.runs.values() if r.workflow_id == workflow_id)
        run = WorkflowRun(
            id=self.store.next_id("run"),
            run_number=number,
            workflow_id=workflow_id,
            path=workflow.path,
            name=workflow.name,
            event=event.name,
            head_branch=event.head_ref if event.head_ref is not None else event.ref_name,
            head_sha=event.sha,
            ref=event.ref,
            actor=event.actor,
            check_suite_id=self.store.next_id("check_suite"),
            created_at=now,
            status="in_progress" if self.delay > 0 else "queued",
            conclusion=None,
            updated_at=now,
            display_title=repo.commit(event.sha).message.partition("\n")[0],
            due_at=now + self.delay,
            depth=event.depth,
        )
        jobs = tuple(self._placeholder(repo, run, job) for job in workflow.jobs)
        repo.runs[run.id] = replace(run, jobs=jobs)
        return run.id

    def _placeholder(self, repo: Repo, run: WorkflowRun, job: Job) -> JobRecord:
        check = CheckRun(
            id=self.store.next_id("check_run"),
            head_sha=run.head_sha,
            name=job.name,
            status="in_progress",
            conclusion=None,
            started_at=run.created_at,
            completed_at=None,
            details_url=f"https://github.com/{repo.full_name}/actions/runs/{run.id}",
            suite_id=run.check_suite_id,
            app_slug="github-actions",
        )
        repo.check_runs[check.id] = check
        # GitHub gives a job the id of its check run (the jobs API's check_run_url ends with it)
        return JobRecord(check.id, job.id, job.name, "in_progress", None, run.created_at, None, check.id)

    def _execute(self, repo: Repo, workflow: Workflow, event: Event, run_id: int) -> list[Event]:
        try:
            return self._execute_jobs(repo, workflow, event, run_id)
        except Exception as error:  # a gap in the model must not break the API it sits behind
            self.errors.append(f"{repo.full_name} {workflow.path}: {type(error).__name__}: {error}")
            return []

    def _execute_jobs(self, repo: Repo, workflow: Workflow, event: Event, run_id: int) -> list[Event]:
        run = repo.runs[run_id]
        secrets, known = self._secrets(repo)
        needs: dict[str, Any] = {}
        records: dict[str, JobRecord] = {j.key: j for j in run.jobs}
        follow: list[Event] = []
        for job in _ordered(workflow.jobs):
            token = credentials.github_token(run_id, job.permissions or workflow.permissions)
            ctx = JobContext(self.store, repo, workflow, job, event, run_id, token,
                             {**secrets, "GITHUB_TOKEN": token.value}, {**known, token.value: token},
                             {k: needs[k] for k in job.needs if k in needs})
            record = self._run_job(ctx, records[job.id])
            records[job.id] = record
            needs[job.id] = {"result": record.conclusion, "outputs": dict(record.outputs)}
            follow += ctx.events
        done = tuple(records[j.key] for j in run.jobs)
        failed = any(j.conclusion == "failure" for j in done)
        now = self.store.clock()
        repo.runs[run_id] = replace(run, jobs=done, status="completed", conclusion="failure" if failed else "success",
                                    updated_at=now)
        return follow

    def _secrets(self, repo: Repo) -> tuple[dict[str, str], dict[str, Credential]]:
        org = self.store.orgs[repo.org]
        names = {*org.secrets, *org.secret_values, *repo.meta.secrets, *repo.meta.secret_values}
        secrets: dict[str, str] = {}
        known: dict[str, Credential] = {}
        for name in sorted(names):
            credential = credentials.secret(self.store, repo, name)
            if credential is not None:
                secrets[name] = credential.value
                known[credential.value] = credential
        return secrets, known

    def _run_job(self, ctx: JobContext, placeholder: JobRecord) -> JobRecord:
        job = ctx.job
        needs_failed = any(n.get("result") != "success" for n in ctx.needs.values())
        missing = [n for n in job.needs if n not in ctx.needs]
        ctx.failed = needs_failed or bool(missing)
        explicit = job.if_ is not None and STATUS_FUNCTION.search(job.if_) is not None
        runs = condition(job.if_, ctx.scope(ctx.env_for({}))) if (explicit or not ctx.failed) else False
        if not runs:
            return self._finish(ctx, placeholder, "skipped", ())
        ctx.failed = False
        steps = [StepRecord(1, "Set up job", "completed", "success")]
        for step in job.steps:
            env = ctx.env_for(step.env)
            if not condition(step.if_, ctx.scope(env)):
                steps.append(StepRecord(len(steps) + 1, step.name, "completed", "skipped"))
                continue
            outcome = run_step(ctx, step, env)
            steps.append(StepRecord(len(steps) + 1, step.name, "completed", outcome.conclusion, log=outcome.log))
            if step.id:
                ctx.steps[step.id] = {"outputs": dict(outcome.outputs), "outcome": outcome.conclusion,
                                      "conclusion": outcome.conclusion}
            ctx.failed = ctx.failed or outcome.conclusion == "failure"
        steps.append(StepRecord(len(steps) + 1, "Complete job", "completed", "success"))
        outputs = {k: interpolate(v, ctx.scope(ctx.env_for({}))) for k, v in job.outputs.items()}
        record = self._finish(ctx, placeholder, "failure" if ctx.failed else "success", tuple(steps))
        return replace(record, outputs=outputs)

    def _finish(self, ctx: JobContext, placeholder: JobRecord, conclusion: str,
                steps: tuple[StepRecord, ...]) -> JobRecord:
        now = self.store.clock()
        timed = tuple(replace(s, started_at=placeholder.started_at, completed_at=now) for s in steps)
        check = ctx.repo.check_runs[placeholder.check_run_id]
        failed = next((s for s in timed if s.conclusion == "failure"), None)
        summary = f"Failed at step {failed.name}" if failed else None
        ctx.repo.check_runs[check.id] = replace(check, status="completed", conclusion=conclusion, completed_at=now,
                                                title=summary, summary="\n".join(failed.log) if failed else None)
        return replace(placeholder, status="completed", conclusion=conclusion, completed_at=now, steps=timed)


def _ordered(jobs: tuple[Job, ...]) -> list[Job]:
    """Jobs in an order where every job comes after those it needs (a cycle keeps file order)."""
    done: list[Job] = []
    names = {j.id for j in jobs}
    pending = list(jobs)
    while pending:
        ready = [j for j in pending if all(n in {d.id for d in done} or n not in names for n in j.needs)]
        ready = ready or pending[:1]
        done += ready
        pending = [j for j in pending if j not in ready]
    return done


def _skipped(repo: Repo, event: Event) -> bool:
    if event.name not in ("push", "pull_request"):
        return False
    message = repo.commit(event.sha).message.lower()
    return any(marker in message for marker in SKIP_MARKERS)


@contextmanager
def _no_ref_log() -> Iterator[None]:
    """The model's own writes are events it follows itself, not a request's pushes."""
    token = REF_LOG.set(None)
    try:
        yield
    finally:
        REF_LOG.reset(token)


def branch_of(ref: str) -> str | None:
    return ref[len(HEADS) :] if ref.startswith(HEADS) else None
