"""A scheduled PITR drill's moment: drawn uniformly from the last `random=` before now, clipped to the PITR window,
as AWS Backup's restore testing picks a random point within the last N days; the same draw gives the same moment."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.aws.table_info import PitrWindow
from bot.drills.service import random_point

NOW = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
WINDOW = PitrWindow(True, 35, NOW - timedelta(days=35), NOW - timedelta(minutes=5))


def test_a_seeded_draw_gives_the_same_moment_inside_the_last_seven_days() -> None:
    first = random_point(WINDOW, NOW, timedelta(days=7), random.Random(7).random)
    again = random_point(WINDOW, NOW, timedelta(days=7), random.Random(7).random)
    expected = NOW - timedelta(days=7) + (WINDOW.latest - (NOW - timedelta(days=7))) * random.Random(7).random()  # type: ignore[operator]
    assert first == again == expected
    assert NOW - timedelta(days=7) <= first <= NOW - timedelta(minutes=5)


def test_the_range_is_clipped_to_the_pitr_window() -> None:
    young = PitrWindow(True, 35, NOW - timedelta(hours=2), NOW - timedelta(minutes=5))
    assert random_point(young, NOW, timedelta(days=7), lambda: 0.0) == NOW - timedelta(hours=2)
    assert random_point(young, NOW, timedelta(days=7), lambda: 0.999999) <= young.latest  # type: ignore[operator]


def test_a_range_shorter_than_pitrs_lag_gives_the_latest_restorable_time() -> None:
    assert random_point(WINDOW, NOW, timedelta(minutes=1), lambda: 0.5) == WINDOW.latest


@given(
    draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    within=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=60)),
    age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=35)),
)
def test_every_draw_lies_in_the_range_and_the_window(draw: float, within: timedelta, age: timedelta) -> None:
    window = PitrWindow(True, 35, NOW - timedelta(minutes=5) - age, NOW - timedelta(minutes=5))
    moment = random_point(window, NOW, within, lambda: draw)
    assert window.contains(moment)
    assert moment >= NOW - within or moment == window.latest
