"""Where each repository of a campaign stands, and since when: pure, from the plan, the journal and the verdicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum

from migrator.verify.model import Judgement, Verdict
from migrator.verify.verdict import parse_time


def default_title(org: str, plan_id: str, campaign: str | None) -> str:
    """The report's heading: the campaign's name (the org too, when the name does not say it); for a plan made
    before campaigns, the org and the plan id."""
    if campaign is None:
        return f"migrator campaign {org}: {plan_id}"
    return f"migrator campaign {campaign}" + ("" if org.lower() in campaign.lower() else f" ({org})")


class State(StrEnum):
    PLANNED = "planned"
    CLOSED = "PR closed"  # closed unmerged (by a person, or by rollback)
    PR_OPEN = "PR open"
    MERGED = "merged"
    VERIFIED = "release verified"
    BROKEN = "broken"


STATES = tuple(State)
COLOURS = {
    State.PLANNED: "#9aa5b1",
    State.CLOSED: "#6e7781",
    State.PR_OPEN: "#3b82f6",
    State.MERGED: "#f59e0b",
    State.VERIFIED: "#16a34a",
    State.BROKEN: "#dc2626",
}


@dataclass(frozen=True)
class RepoRow:
    repo: str
    state: State
    url: str  # the PR, when there is one
    detail: str  # the verdict's summary, or the apply status
    since: str  # ISO time it entered `state`
    history: tuple[tuple[State, str], ...]  # (state, ISO time) in order
    evidence: tuple[str, ...] = ()
    next_step: str = ""
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Campaign:
    title: str
    generated_at: str
    rows: tuple[RepoRow, ...]

    def by_state(self, state: State) -> list[RepoRow]:
        return [r for r in self.rows if r.state is state]


def build(
    title: str,
    *,
    generated_at: str,
    planned: Mapping[str, str],
    opened: Mapping[str, tuple[str, str]],
    judgements: Iterable[Judgement],
    applied: Mapping[str, str] | None = None,
) -> Campaign:
    """`planned`: repository -> when planned; `opened`: repository -> (PR URL, when opened); the verdicts of the
    merged ones; `applied`: the apply status of repositories without a PR."""
    judged = {j.repo: j for j in judgements}
    done = applied or {}
    rows = [_row(repo, at, opened.get(repo), judged.get(repo), done.get(repo, "")) for repo, at in planned.items()]
    return Campaign(title, generated_at, tuple(sorted(rows, key=lambda r: (STATES.index(r.state), r.repo))))


def iso(stamp: str) -> str:
    """One spelling of UTC times, so they sort as strings: 2026-12-02T01:51:22Z."""
    if not stamp:
        return ""
    try:
        return parse_time(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return ""


def _row(repo: str, planned_at: str, opened: tuple[str, str] | None, judged: Judgement | None, applied: str) -> RepoRow:
    history: list[tuple[State, str]] = [(State.PLANNED, iso(planned_at))]
    url, detail = "", applied or "not applied"
    if opened is not None:
        url, at = opened
        history.append((State.PR_OPEN, iso(at)))
        detail = "open"
    evidence: tuple[str, ...] = ()
    next_step, links = "", tuple[tuple[str, str], ...]()
    if judged is not None and judged.verdict is not Verdict.NOT_MERGED and judged.merged_at:
        history.append((State.MERGED, iso(judged.merged_at)))
        final = {Verdict.VERIFIED: State.VERIFIED, Verdict.BROKEN: State.BROKEN}.get(judged.verdict)
        if final is not None and judged.decided_at:
            history.append((final, max(iso(judged.decided_at), iso(judged.merged_at))))
        detail = f"{judged.verdict.value}: {judged.summary}"
        evidence, next_step, links = judged.evidence, judged.next_step, judged.links
        url = judged.url or url
    elif judged is not None:
        detail = judged.summary
        if judged.summary == "PR closed":
            history.append((State.CLOSED, history[-1][1]))
    state, since = history[-1]
    return RepoRow(repo, state, url, detail, since, tuple(history), evidence, next_step, links)


def burndown(rows: Sequence[RepoRow]) -> list[tuple[str, dict[State, int]]]:
    """At each moment a repository changed state: how many repositories were in each state."""
    moments = sorted({at for row in rows for _state, at in row.history if at})
    series = []
    for moment in moments:
        counts = dict.fromkeys(STATES, 0)
        for row in rows:
            current = [state for state, at in row.history if at and at <= moment]
            if current:
                counts[current[-1]] += 1
        series.append((moment, counts))
    return series
