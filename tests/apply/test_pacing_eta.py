"""The pacing's ETA and memory: bursts fit what each window has room for, later writes wait for the oldest to age
out, and a new run remembers the writes the last one made (GitHub's limits do not restart with the process)."""

from __future__ import annotations

from migrator.apply.pacing import Pacer, PaceSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer(clock: Clock) -> Pacer:
    return Pacer(PaceSettings(per_minute=70, per_hour=450, min_interval=0.0), clock=clock, sleep=clock.sleep)


def test_a_burst_within_the_window_is_immediate_and_the_rest_waits_for_the_oldest_to_age_out() -> None:
    clock = Clock()
    fresh = pacer(clock)
    assert fresh.eta(70) == 0.0
    for _ in range(70):
        fresh.acquire()
        clock.now += 0.5  # 70 writes over 35 s
    # 35 more: the k-th waits until the k-th oldest of the last minute is 60 s old
    assert fresh.eta(35) == 1000.0 + 34 * 0.5 + 60 - clock.now
    started = clock.now
    for _ in range(35):
        fresh.acquire()
    assert clock.now - started == 1000.0 + 34 * 0.5 + 60 - started  # what the ETA said


def test_a_new_run_remembers_the_writes_of_the_last_one() -> None:
    clock = Clock()
    resumed = pacer(clock)
    resumed.remember([float(age) for age in range(70)])  # 70 writes in the last 70 s: 60 still in the window
    assert resumed.eta(11) > 0  # only 10 fit now
    before = clock.now
    for _ in range(11):
        resumed.acquire()
    assert clock.now > before  # it waited instead of sending the 71st write of the minute
    assert resumed.eta(0) == 0.0
