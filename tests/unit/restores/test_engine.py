"""Bulk put's input quotas as the planner applies them: 50,000 objects of at most 5 GB each (documented), and the
per-tier total the bot is configured with (AWS's own is not published)."""

from __future__ import annotations

from bot.restores.bulk_options import MAX_INPUT_OBJECTS, MAX_OBJECT_BYTES, Tier
from bot.restores.engine import GB, BulkPolicy, quota_problem

POLICY = BulkPolicy(max_input_bytes={Tier.STANDARD: 10 * GB, Tier.ACCELERATED: 20 * GB})


def test_input_within_every_quota_fits() -> None:
    assert quota_problem([GB] * 10, Tier.STANDARD, POLICY) is None
    assert quota_problem([1] * MAX_INPUT_OBJECTS, Tier.STANDARD, POLICY) is None
    assert quota_problem([MAX_OBJECT_BYTES], Tier.ACCELERATED, POLICY) is None


def test_one_object_too_many_is_refused_naming_the_quota() -> None:
    said = quota_problem([1] * (MAX_INPUT_OBJECTS + 1), Tier.STANDARD, POLICY)
    assert said is not None and "50,001 objects" in said and "50,000" in said


def test_an_object_over_5_gb_is_refused() -> None:
    said = quota_problem([MAX_OBJECT_BYTES + 1], Tier.ACCELERATED, POLICY)
    assert said is not None and "per object" in said


def test_the_total_is_held_to_the_tier_setting_and_names_it() -> None:
    said = quota_problem([GB] * 11, Tier.STANDARD, POLICY)
    assert said is not None and "DDBBOT_BULK_MAX_INPUT_GB_STANDARD" in said
    assert quota_problem([GB] * 11, Tier.ACCELERATED, POLICY) is None, "the accelerated tier has its own total"
