"""The burndown as a small inline SVG: stacked steps of repositories by state over time, no script, no CDN.

Hand-written on purpose: a stacked step chart is a few dozen `<path>`s, and a charting library would add a
dependency (and, for most of them, JavaScript) to draw what this draws offline in one string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from migrator.report.model import COLOURS, STATES, State
from migrator.verify.verdict import parse_time

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 760, 300, 48, 44, 16, 150


def svg(series: Sequence[tuple[str, dict[State, int]]]) -> str:
    if not series:
        return '<svg class="burndown" role="img" width="760" height="60"><text x="10" y="30">no data yet</text></svg>'
    total = max(sum(counts.values()) for _at, counts in series) or 1
    times = [parse_time(at).timestamp() for at, _counts in series]
    start = times[0]
    end = times[-1] + max((times[-1] - start) * 0.08, 1.0)  # the latest state gets a width too
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + (t - start) / (end - start) * plot_w

    def y(n: float) -> float:
        return PAD_TOP + plot_h - n / total * plot_h

    layers = []
    base = [0] * len(series)
    for state in STATES:  # planned at the bottom, broken on top
        top = [b + counts[state] for b, (_at, counts) in zip(base, series, strict=True)]
        layers.append(_band(state, [x(t) for t in times], [y(v) for v in base], [y(v) for v in top], x(end)))
        base = top
    axes = _axes(series, total, x, y, start=start, end=end)
    legend = _legend()
    return (
        f'<svg class="burndown" role="img" aria-label="burndown of repositories by state" '
        f'xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f"<title>Repositories by state over time</title>{''.join(layers)}{axes}{legend}</svg>"
    )


def _band(state: State, xs: list[float], lows: list[float], highs: list[float], right: float) -> str:
    """A step band: each value holds until the next moment, the last one until the right edge."""
    upper, lower = [], []
    edges = [*xs[1:], right]
    for left, next_x, high in zip(xs, edges, highs, strict=True):
        upper += [f"{left:.1f},{high:.1f}", f"{next_x:.1f},{high:.1f}"]
    for left, next_x, low in reversed(list(zip(xs, edges, lows, strict=True))):
        lower += [f"{next_x:.1f},{low:.1f}", f"{left:.1f},{low:.1f}"]
    points = " ".join(upper + lower)
    return f'<polygon class="band" data-state="{escape(state.value)}" fill="{COLOURS[state]}" points="{points}"/>'


def _axes(
    series: Sequence[tuple[str, dict[State, int]]],
    total: int,
    x: Callable[[float], float],
    y: Callable[[float], float],
    *,
    start: float,
    end: float,
) -> str:
    bottom, left = HEIGHT - PAD_BOTTOM, PAD_LEFT
    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - PAD_RIGHT}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{PAD_TOP}" x2="{left}" y2="{bottom}" stroke="#333"/>',
    ]
    for n in sorted({0, total // 2, total}):
        parts.append(f'<text x="{left - 6}" y="{y(n) + 4:.1f}" text-anchor="end" font-size="11">{n}</text>')
    first, last = (at[:19].replace("T", " ") for at in (series[0][0], series[-1][0]))
    parts.append(f'<text x="{x(start):.1f}" y="{bottom + 16}" font-size="11">{escape(first)}</text>')
    if last != first:
        parts.append(
            f'<text x="{x(end):.1f}" y="{bottom + 30}" text-anchor="end" font-size="11">{escape(last)}</text>'
        )
    return "".join(parts)


def _legend() -> str:
    items = []
    for i, state in enumerate(reversed(STATES)):
        top = PAD_TOP + i * 20
        items.append(
            f'<rect x="{WIDTH - PAD_RIGHT + 14}" y="{top}" width="12" height="12" fill="{COLOURS[state]}"/>'
            f'<text x="{WIDTH - PAD_RIGHT + 32}" y="{top + 10}" font-size="12">{escape(state.value)}</text>'
        )
    return "".join(items)
