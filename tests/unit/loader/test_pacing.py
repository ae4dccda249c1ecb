"""The loader's write-rate controller on a simulated clock: it keeps to the ceiling, finds what a table takes,
and backs off when throttled."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.loader.pacing import PacingPolicy, WriteRateController

BATCH = 25.0
CALL_S = 0.001  # each simulated call takes a millisecond: one sender can offer up to 25,000 units a second


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return False


@dataclass
class Table:
    """A table taking `capacity` units a second with one second of burst, as DynamoDB's stand-in does."""

    clock: Clock
    capacity: float
    tokens: float = 0.0
    at: float = 0.0
    consumed_at: list[tuple[float, float]] = field(default_factory=list)

    def write(self, units: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (self.clock.now - self.at) * self.capacity)
        self.at = self.clock.now
        taken = min(units, max(0.0, self.tokens // 1))
        self.tokens -= taken
        if taken:
            self.consumed_at.append((self.clock.now, taken))
        return taken


def drive(controller: WriteRateController, clock: Clock, seconds: float, table: Table | None = None) -> list[float]:
    """Send 25-unit batches for `seconds`, resending what the table left; returns the units of each call sent."""
    sent: list[float] = []
    pending = BATCH
    while clock.now < seconds:
        assert controller.acquire(pending, clock.wait)
        taken = table.write(pending) if table is not None else pending
        controller.record(estimated=pending, consumed=taken, throttled=taken < pending)
        sent.append(pending)
        pending = pending - taken or BATCH
        clock.now += CALL_S
    return sent


def busiest_window(consumed_at: list[tuple[float, float]], window: float = 5.0) -> float:
    best, start, total = 0.0, 0, 0.0
    for end in range(len(consumed_at)):
        total += consumed_at[end][1]
        while consumed_at[end][0] - consumed_at[start][0] >= window:
            total -= consumed_at[start][1]
            start += 1
        best = max(best, total)
    return best


def test_the_ceiling_is_kept_over_every_five_seconds_and_nearly_reached() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(ceiling=5_000.0), clock)
    table = Table(clock, capacity=1e9)

    drive(controller, clock, 60.0, table)

    assert busiest_window(table.consumed_at) <= 5_000.0 * 5
    total = sum(units for _, units in table.consumed_at)
    assert total >= 0.95 * 5_000.0 * 60


def test_without_a_ceiling_it_settles_near_what_the_table_takes_with_few_writes_sent_again() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(), clock)
    table = Table(clock, capacity=10_000.0)

    sent = drive(controller, clock, 120.0, table)

    settled = sum(units for moment, units in table.consumed_at if moment >= 60.0)
    assert settled >= 0.9 * 10_000.0 * 60
    written = sum(units for _, units in table.consumed_at)
    assert sum(sent) - written <= 0.02 * written


def test_a_throttle_lowers_the_rate_at_most_once_a_second_to_below_what_was_accepted() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(ceiling=10_000.0), clock)
    drive(controller, clock, 2.0)
    accepted = controller.snapshot().rate
    assert accepted is not None

    controller.record(estimated=BATCH, consumed=0.0, throttled=True)
    once = controller.snapshot().rate
    clock.now += 0.5
    controller.record(estimated=BATCH, consumed=0.0, throttled=True)
    assert controller.snapshot().rate == once
    assert once is not None and once <= 0.9 * accepted

    clock.now += 1.0
    controller.record(estimated=BATCH, consumed=0.0, throttled=True)
    again = controller.snapshot().rate
    assert again is not None and again < once
    assert controller.snapshot().decreases == 2


def test_the_rate_rises_only_after_windows_that_used_their_allowance() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(ceiling=10_000.0), clock)
    drive(controller, clock, 2.0)
    controller.record(estimated=BATCH, consumed=0.0, throttled=True)
    lowered = controller.snapshot().rate
    assert lowered is not None

    for _ in range(10):  # idle windows: a trickle of one unit a second
        clock.now += 1.0
        controller.record(estimated=1.0, consumed=1.0, throttled=False)
    assert controller.snapshot().rate == lowered

    drive(controller, clock, clock.now + 10.0)
    risen = controller.snapshot().rate
    assert risen is not None and risen > lowered
    assert risen <= 10_000.0


def test_a_halted_load_stops_waiting_for_tokens() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(ceiling=1.0), clock)
    waits: list[float] = []

    def halted(seconds: float) -> bool:
        waits.append(seconds)
        return True

    assert controller.acquire(BATCH, halted) is False
    assert waits and waits[0] > 0


def test_a_batch_larger_than_the_bucket_still_goes_once_the_bucket_is_full() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(ceiling=10.0), clock)  # the bucket holds about 1 unit

    assert controller.acquire(400.0, clock.wait)
    assert clock.now < 1.0


def test_throttling_that_does_not_ease_as_the_rate_drops_slows_the_load_but_never_stalls_it() -> None:
    clock = Clock()
    controller = WriteRateController(PacingPolicy(), clock)
    table = Table(clock, capacity=10_000.0)
    drive(controller, clock, 10.0, table)  # learn what the table takes
    peak = sum(units for at, units in table.consumed_at if at >= 5.0) / 5.0
    calls = 0
    while clock.now < 40.0:  # now every tenth call is throttled whatever the rate, as a hot key or a fault does
        assert controller.acquire(BATCH, clock.wait)
        calls += 1
        controller.record(estimated=BATCH, consumed=BATCH, throttled=calls % 10 == 0)
        clock.now += CALL_S
    rate = controller.snapshot().rate
    assert rate is not None and rate >= 0.25 * peak * 0.9, f"rate {rate:.0f}/s fell under a quarter of {peak:.0f}/s"
    assert calls * BATCH / 30.0 >= 0.2 * peak, "the load kept going"
