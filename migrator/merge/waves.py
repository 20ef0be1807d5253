"""`merge --verify`: merge in waves, a canary wave first, and the next wave only once `verify` says every
release of the last one works. A broken verdict stops the campaign there, naming the repository and why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from migrator.verify.model import Judgement, Verdict

T = TypeVar("T")


def waves(items: Sequence[T], *, canary: int, wave_size: int | None) -> list[list[T]]:
    """The canary wave, then waves of `wave_size`, or (without it) each twice the one before."""
    out: list[list[T]] = []
    start, size = 0, max(canary, 1)
    while start < len(items):
        out.append(list(items[start : start + size]))
        start += size
        size = wave_size if wave_size else size * 2
    return out


@dataclass(frozen=True)
class WaveVerdict:
    """What verification of one wave found: go on, or stop and why."""

    go_on: bool
    reason: str
    judgements: tuple[Judgement, ...] = field(default_factory=tuple)


def judge_wave(judgements: Sequence[Judgement], *, number: int, timed_out: bool) -> WaveVerdict:
    broken = [j for j in judgements if j.verdict is Verdict.BROKEN]
    if broken:
        first = broken[0]
        why = "; ".join([first.summary, *first.evidence[:3]])
        step = f"; next: {first.next_step}" if first.next_step else ""
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        return WaveVerdict(False, f"wave {number}: {first.repo} verifies broken{more}: {why}{step}", tuple(judgements))
    pending = [j.repo for j in judgements if j.verdict is Verdict.PENDING]
    if pending:
        how = "still pending after --wait" if timed_out else "pending"
        return WaveVerdict(
            False,
            f"wave {number}: {', '.join(pending)} {how}; run `migrator merge --verify` again "
            "(with a longer --wait) to go on",
            tuple(judgements),
        )
    unreleased = [j for j in judgements if j.verdict is Verdict.NOT_RELEASED]
    if unreleased:
        names = ", ".join(j.repo for j in unreleased)
        return WaveVerdict(
            False,
            f"wave {number}: {names} not released yet ({unreleased[0].next_step or 'wait'}); "
            "nothing proves the release works there",
            tuple(judgements),
        )
    verified = [j for j in judgements if j.verdict is Verdict.VERIFIED]
    if not verified:
        return WaveVerdict(
            False, f"wave {number} merged nothing, so nothing verified it; see the reasons above", tuple(judgements)
        )
    return WaveVerdict(True, f"wave {number}: {len(verified)} verified", tuple(judgements))


Poll = Callable[[], list[Judgement]]


def wait_for_wave(
    poll: Poll,
    *,
    wait: float,
    interval: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    on_poll: Callable[[list[Judgement]], None],
) -> tuple[list[Judgement], bool]:
    """Poll verify until none of the wave is pending, at most `wait` seconds; (judgements, timed out)."""
    deadline = clock() + wait
    while True:
        judgements = poll()
        if not any(j.verdict is Verdict.PENDING for j in judgements):
            return judgements, False
        if clock() >= deadline:
            return judgements, True
        on_poll(judgements)
        sleep(min(interval, max(deadline - clock(), 0.0)))
