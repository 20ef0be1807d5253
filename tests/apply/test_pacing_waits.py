"""Waits GitHub asks for are capped at --max-wait, remembered, and shown while they run."""

from __future__ import annotations

import pytest

from migrator.apply.pacing import Pacer, PaceSettings, WaitTooLong


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_wait_over_the_cap_is_refused_and_blocks_later_writes_without_sleeping() -> None:
    clock = Clock()
    pacer = Pacer(PaceSettings(min_interval=0), clock=clock, sleep=clock.sleep, max_wait=900)
    with pytest.raises(WaitTooLong, match=r"86,400 s, over --max-wait 900 s; .*run the same command again after"):
        pacer.cool_down(86400)
    with pytest.raises(WaitTooLong, match="resets in"):
        pacer.check_blocked()
    with pytest.raises(WaitTooLong):
        pacer.acquire()
    assert clock.slept == []
    clock.now += 86400
    pacer.acquire()  # the limit has passed
    assert pacer.writes == 1


def test_a_wait_under_the_cap_is_waited_out_and_shown() -> None:
    clock = Clock()
    shown: list[str] = []
    pacer = Pacer(PaceSettings(min_interval=0), clock=clock, max_wait=900)
    pacer.sleep = lambda seconds: (shown.append(pacer.describe(3)), clock.sleep(seconds))  # type: ignore[func-returns-value]
    told: list[float] = []
    pacer.on_wait = told.append
    pacer.cool_down(120)
    assert clock.slept == [120] and told == [120]
    assert shown == ["waiting 120s for GitHub's limits"]
    assert pacer.describe(3).startswith("ETA ")


def test_max_wait_must_not_be_negative() -> None:
    from migrator.errors import UsageError

    with pytest.raises(UsageError, match="--max-wait"):
        Pacer(max_wait=-1)
