"""The report as Markdown for a job summary or a tracking issue: a mermaid chart, a table per state, the
evidence for every broken repository; under GitHub's 1 MiB limit, cut with a note."""

from __future__ import annotations

from migrator.plan.markdown import code, escape
from migrator.report.model import STATES, Campaign, RepoRow, State, burndown

LIMIT = 1024 * 1024 - 4096  # GitHub's job summary and issue body limit, with room for the note
CHART_POINTS = 60


def render(campaign: Campaign, limit: int = LIMIT) -> str:
    rows = list(campaign.rows)
    head = [f"# {escape(campaign.title)}", "", f"{len(rows)} repositories · generated {escape(campaign.generated_at)}",
            "", " · ".join(f"**{len(campaign.by_state(s))}** {s.value}" for s in reversed(STATES)), ""]
    body = [*_chart(rows), *(line for s in reversed(STATES) for line in _table(s, campaign.by_state(s))),
            *_evidence(campaign.by_state(State.BROKEN))]
    return _fit(head, body, limit)


def _chart(rows: list[RepoRow]) -> list[str]:
    series = burndown(rows)
    if len(series) > CHART_POINTS:  # a campaign of weeks: sample evenly, keep the last point
        step = len(series) / CHART_POINTS
        series = [series[int(i * step)] for i in range(CHART_POINTS - 1)] + [series[-1]]
    if not series:
        return []
    top = max(sum(c.values()) for _at, c in series) or 1
    labels = ", ".join(f'"{at[5:16].replace("T", " ")}"' for at, _c in series)
    lines = ["## Burndown", "", "```mermaid", "xychart-beta", '  title "Repositories by state"',
             f"  x-axis [{labels}]", f'  y-axis "repositories" 0 --> {top}']
    lines += [f"  line [{', '.join(str(c[s]) for _at, c in series)}]" for s in STATES]
    lines += ["```", "", "Lines, in order: " + ", ".join(s.value for s in STATES) + ".", ""]
    return lines


def _table(state: State, rows: list[RepoRow]) -> list[str]:
    if not rows:
        return []
    lines = [f"## {state.value} ({len(rows)})", "", "| repository | detail | since |", "| --- | --- | --- |"]
    for r in rows:
        name = f"[{escape(r.repo)}]({r.url})" if r.url.startswith(("http://", "https://")) else escape(r.repo)
        lines.append(f"| {name} | {escape(r.detail)} | {escape(r.since)} |")
    return [*lines, ""]


def _evidence(rows: list[RepoRow]) -> list[str]:
    if not rows:
        return []
    lines = ["## Evidence for every broken repository", ""]
    for r in rows:
        lines += [f"### {escape(r.repo)}", "", escape(r.detail), "", *(f"- {code(e)}" for e in r.evidence)]
        lines += [f"- next step: {escape(r.next_step)}", ""] if r.next_step else [""]
    return lines


def _fit(head: list[str], body: list[str], limit: int) -> str:
    text = "\n".join(head + body) + "\n"
    if len(text.encode()) <= limit:
        return text
    kept, size = list(head), len("\n".join(head).encode())
    for line in body:
        size += len(line.encode()) + 1
        if size > limit:
            break
        kept.append(line)
    left = len(body) - (len(kept) - len(head))
    note = f"\n\n_Cut to fit GitHub's 1 MiB limit: {left} more lines; see the HTML report._\n"
    if sum(1 for line in kept[len(head) :] if line.startswith("```")) % 2:  # never leave a fence open
        kept.append("```")
    return "\n".join(kept) + note
