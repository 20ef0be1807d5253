"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

from html import escape

from migrator.report.chart import svg
from migrator.report.model import COLOURS, STATES, Campaign, RepoRow, State, burndown

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #57606a; margin-bottom: 16px; }
.tiles { display: flex; gap: 12px; margin: 12px 0 20px; flex-wrap: wrap; }
.tile { border-radius: 6px; padding: 8px 14px; color: #fff; min-width: 110px; }
.tile b { display: block; font-size: 22px; }
table { border-collapse: collapse; width: 100%; max-width: 1100px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #d0d7de; vertical-align: top; }
th { background: #f6f8fa; }
code, pre { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f6f8fa; padding: 8px; white-space: pre-wrap; margin: 4px 0; }
.broken { border-left: 4px solid #dc2626; padding-left: 12px; margin: 12px 0; }
a { color: #0969da; }
"""


def render(campaign: Campaign) -> str:
    rows = list(campaign.rows)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(campaign.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(campaign.title)}</h1>",
        f'<div class="meta">{len(rows)} repositories · generated {escape(campaign.generated_at)}</div>',
        _tiles(campaign),
        '<h2>Burndown</h2><figure id="burndown">',
        svg(burndown(rows)),
        "</figure>",
        *(_table(state, campaign.by_state(state)) for state in reversed(STATES)),
        _evidence(campaign.by_state(State.BROKEN)),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _tiles(campaign: Campaign) -> str:
    tiles = "".join(
        f'<div class="tile" style="background:{COLOURS[s]}"><b>{len(campaign.by_state(s))}</b>{escape(s.value)}</div>'
        for s in reversed(STATES)
    )
    return f'<div class="tiles">{tiles}</div>'


def _table(state: State, rows: list[RepoRow]) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{_link(r.repo, r.url)}</td><td>{escape(r.detail)}</td><td>{escape(r.since)}</td>"
        f"<td>{' '.join(_link(label, url) for label, url in r.links)}</td></tr>"
        for r in rows
    )
    slug = state.value.replace(" ", "-")
    return (
        f'<h2 id="state-{slug}">{escape(state.value)} ({len(rows)})</h2>'
        f'<table class="state" data-state="{escape(state.value)}"><thead><tr><th>repository</th><th>detail</th>'
        f"<th>since</th><th>links</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _evidence(rows: list[RepoRow]) -> str:
    if not rows:
        return ""
    blocks = "".join(
        f'<div class="broken"><h3>{_link(r.repo, r.url)}</h3><p>{escape(r.detail)}</p>'
        + "".join(f"<pre>{escape(e)}</pre>" for e in r.evidence)
        + (f"<p><b>Next step:</b> {escape(r.next_step)}</p>" if r.next_step else "")
        + "</div>"
        for r in rows
    )
    return f'<h2 id="evidence">Evidence for every broken repository</h2>{blocks}'


def _link(text: str, url: str) -> str:
    safe = url if url.startswith(("http://", "https://")) else ""
    return f'<a href="{escape(safe)}">{escape(text)}</a>' if safe else escape(text)
