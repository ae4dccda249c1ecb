"""How fast the loader writes: one rate controller shared by all threads of a load, in write units per second.

A token bucket paces the calls; it is fed the units each BatchWriteItem really consumed (`ConsumedCapacity`,
since item sizes differ and one item is not one unit) and steered by AIMD, as gurre/ddb-pitr's pacer and the AWS
SDKs' adaptive retry mode do: on throttling or UnprocessedItems the rate drops to a fraction of what the table
accepted over the last window (at most once a second); after a window that used at least 90 % of its allowance
without a throttle it rises by a small fixed step. It never exceeds the ceiling the user set, and never drops
below a quarter of the most the table ever took in a window: throttling that does not ease when the rate drops
(random faults, one hot key) must slow the load, not stall it.

botocore's own `retries.bucket.TokenBucket` / `retries.adaptive.ClientRateLimiter` are not reused: their bucket
always holds one second of burst (a full bucket would overshoot the ceiling by up to 20 % over a 5-second
window), they wait on a condition variable in real time (no injectable clock to test against, no way to cancel a
waiting thread when the load stops), an acquire larger than one second's worth blocks for ever, they count
requests rather than consumed units, and `botocore.retries` is not a public API.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Over any such window the units sent stay within the ceiling: the bucket's burst is budgeted inside it.
CEILING_WINDOW_S = 5.0


@dataclass(frozen=True)
class PacingPolicy:
    """The controller's constants; `ceiling` is in write units per second (None: only what the table takes)."""

    ceiling: float | None = None
    burst_s: float = 0.1  # the bucket holds this many seconds of the rate
    window_s: float = 1.0  # how often the rate may rise, and the least time between two decreases
    decrease: float = 0.9  # on throttling: this fraction of what the table accepted in the last window
    step: float = 0.01  # additive increase per busy window, as a fraction of the rate found at the last decrease
    busy: float = 0.9  # a window that used this fraction of its allowance may raise the rate
    min_rate: float = 1.0
    # never below this share of the most a window ever took: throttling that does not ease as the rate drops
    # (a hot key, throttles unrelated to the load) would otherwise shrink the rate to `min_rate` and stall the load
    floor_share: float = 0.25

    @property
    def max_rate(self) -> float | None:
        """The bucket's fill rate at the ceiling: the burst it can hold fits inside a 5-second window's budget."""
        if self.ceiling is None:
            return None
        return self.ceiling * CEILING_WINDOW_S / (CEILING_WINDOW_S + self.burst_s)


@dataclass(frozen=True)
class PacingSnapshot:
    """What the controller knows: its rate now (None: not limited yet) and the ceiling."""

    rate: float | None
    ceiling: float | None
    decreases: int


class WriteRateController:
    """Token bucket plus AIMD, thread-safe; `clock` is injectable so tests can drive time.

    Starts at the ceiling (or unlimited without one, until the first throttle shows what the table takes).
    """

    def __init__(self, policy: PacingPolicy = PacingPolicy(), clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._rate: float | None = policy.max_rate
        self._tokens = 0.0  # starts empty: the first window may not exceed the ceiling by a burst
        self._refilled_at = now
        self._window_start = now
        self._window_units = 0.0
        self._window_throttled = False
        self._last_window_rate: float | None = None
        self._decreased_at = -math.inf
        self._step = (self._rate or 0.0) * policy.step
        self._decreases = 0
        self._peak_accepted = 0.0  # the most units a second any window took: how fast to climb back

    @property
    def policy(self) -> PacingPolicy:
        """The constants it runs with."""
        return self._policy

    def snapshot(self) -> PacingSnapshot:
        """The rate and ceiling now, for progress reports."""
        with self._lock:
            return PacingSnapshot(self._rate, self._policy.ceiling, self._decreases)

    def acquire(self, units: float, wait: Callable[[float], bool]) -> bool:
        """Take `units` from the bucket, waiting with `wait(seconds)` (True: stop waiting, the load was halted).

        Returns False when halted. A request larger than the bucket waits until the bucket is full, then goes.
        """
        while True:
            with self._lock:
                delay = self._take(units)
            if delay <= 0:
                return True
            if wait(delay):
                return False

    def _take(self, units: float) -> float:
        """Seconds to wait before `units` can go (0: taken now). Called with the lock held."""
        if self._rate is None:
            return 0.0
        self._refill()
        capacity = self._capacity()
        needed = min(units, capacity)
        if self._tokens >= needed:
            self._tokens -= units
            return 0.0
        return max((needed - self._tokens) / self._rate, 1e-3)

    def record(self, *, estimated: float, consumed: float, throttled: bool) -> None:
        """After a call: `consumed` units landed (`estimated` were taken); `throttled` if DynamoDB pushed back."""
        with self._lock:
            now = self._clock()
            self._refill()
            self._tokens = min(self._tokens + estimated - consumed, self._capacity())
            self._window_units += consumed
            if throttled:
                self._window_throttled = True
                self._decrease(now)
            if now - self._window_start >= self._policy.window_s:
                self._close_window(now)

    def _decrease(self, now: float) -> None:
        """Lower the rate to a fraction of what the table accepted; unlimited, wait for a full window to know it."""
        if self._rate is None or now - self._decreased_at < self._policy.window_s:
            return
        accepted = self._accepted_rate(now)
        self._lower_to(min(self._rate, accepted) if accepted is not None else self._rate, now)

    def _lower_to(self, base: float, now: float) -> None:
        floor = max(self._policy.min_rate, self._policy.floor_share * self._peak_accepted)
        self._rate = max(floor, base * self._policy.decrease)
        if self._policy.max_rate is not None:
            self._rate = min(self._rate, self._policy.max_rate)
        self._step = max(self._policy.min_rate, max(self._rate, self._peak_accepted) * self._policy.step)
        self._tokens = min(self._tokens, self._capacity())
        self._decreased_at = now
        self._decreases += 1

    def _accepted_rate(self, now: float) -> float | None:
        """Units a second the table took in the current window, or in the last full one if this one just began;
        None before a quarter of the first window has passed (too little to tell)."""
        elapsed = now - self._window_start
        if elapsed >= self._policy.window_s / 4:
            return self._window_units / elapsed
        return self._last_window_rate

    def _close_window(self, now: float) -> None:
        elapsed = now - self._window_start
        used = self._window_units / elapsed
        if self._rate is None and self._window_throttled:
            self._lower_to(used, now)  # the first throttled window shows what the table takes
        elif self._rate is not None and not self._window_throttled and used >= self._policy.busy * self._rate:
            self._rate += self._step
            ceiling = self._policy.max_rate
            if ceiling is not None:
                self._rate = min(self._rate, ceiling)
        self._peak_accepted = max(self._peak_accepted, used)
        self._last_window_rate = used
        self._window_start, self._window_units, self._window_throttled = now, 0.0, False

    def _refill(self) -> None:
        now = self._clock()
        if self._rate is not None:
            self._tokens = min(self._tokens + (now - self._refilled_at) * self._rate, self._capacity())
        self._refilled_at = now

    def _capacity(self) -> float:
        return (self._rate or 0.0) * self._policy.burst_s


def estimated_units(request_bytes: int, is_put: bool) -> int:
    """Write units a request will take, before DynamoDB says: 1 per KB of the put's wire JSON (at least the item's
    size), 1 for a delete."""
    return max(1, math.ceil(request_bytes / 1024)) if is_put else 1
