"""Each control judged from what was read: pass, fail, not required and unknown, with the proof an auditor reads."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.catalog.models import CatalogEntry, EntrySource
from bot.controls import checks
from bot.controls.models import Outcome
from bot.drills.models import Drill, DrillResult, DrillSpec, DrillStatus
from bot.models import ExportFormat, ExportType
from bot.verification.models import ExportTarget

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWN = "111111111111"
VAULT = "999999999999"


@dataclass(frozen=True)
class Kept:
    """What a bucket keeps, as bot.retention.buckets.BucketKeeping gives it."""

    bucket: str = "acme-backups"
    prefix: str = "ddb/"
    expiration_days: int | None = None
    object_lock_mode: str | None = None
    object_lock_days: int | None = None
    problem: str | None = None


def export(
    export_id: str, hours_ago: float, owner: str | None = None, kind: ExportType = ExportType.FULL
) -> CatalogEntry:
    at = NOW - timedelta(hours=hours_ago)
    return CatalogEntry(
        export_id=export_id,
        table_arn=f"arn:aws:dynamodb:eu-west-1:{OWN}:table/orders",
        table_name="orders",
        region="eu-west-1",
        export_type=kind,
        export_format=ExportFormat.DYNAMODB_JSON,
        bucket="acme-backups",
        prefix="ddb",
        source=EntrySource.BOT,
        export_arn=f"arn:aws:dynamodb:eu-west-1:{OWN}:table/orders/export/{export_id}",
        bucket_owner=owner,
        export_time=at if kind == ExportType.FULL else None,
        from_time=at - timedelta(hours=1) if kind == ExportType.INCREMENTAL else None,
        to_time=at if kind == ExportType.INCREMENTAL else None,
    )


def drill(drill_id: str, status: DrillStatus, days_ago: float, seconds: float | None = 600.0) -> Drill:
    target = ExportTarget("e-1", None, "acme-backups", None, None, ExportType.FULL, None, "eu-west-1", "e-1")
    spec = DrillSpec("orders", None, "eu-west-1", target, "drill-orders", {}, 10)
    result = DrillResult(failure=None if status == DrillStatus.PASSED else "items differ", recovery_seconds=seconds)
    return Drill(drill_id, spec, "U1", None, status, finished_at=NOW - timedelta(days=days_ago), result=result)


def test_a_recent_incremental_export_passes_backup_frequency_with_its_id_as_proof() -> None:
    result = checks.backup_frequency(timedelta(hours=24), [export("e-new", 3, kind=ExportType.INCREMENTAL)], NOW)
    assert result.outcome == Outcome.PASS and result.target == "every 1d"
    assert (result.proof.export_id, result.proof.at) == ("e-new", NOW - timedelta(hours=3))


def test_an_export_older_than_the_target_fails_backup_frequency_naming_its_age() -> None:
    result = checks.backup_frequency(timedelta(hours=24), [export("e-old", 30)], NOW)
    assert result.outcome == Outcome.FAIL and "30.0 h ago" in result.reason and result.proof.export_id == "e-old"


def test_no_export_fails_and_no_target_is_not_required() -> None:
    assert checks.backup_frequency(timedelta(hours=1), [], NOW).outcome == Outcome.FAIL
    assert checks.backup_frequency(None, [export("e", 1)], NOW).outcome == Outcome.NOT_REQUIRED


def test_an_export_in_another_accounts_bucket_passes_cross_account_even_behind_newer_ones() -> None:
    exports = [export("e-here", 1, owner=OWN), export("e-vault", 20, owner=VAULT)]
    result = checks.cross_account_copy(True, exports, OWN)
    assert result.outcome == Outcome.PASS and result.proof.export_id == "e-vault" and VAULT in result.reason


def test_exports_only_in_the_tables_own_account_fail_cross_account() -> None:
    assert checks.cross_account_copy(True, [export("e", 1, owner=OWN)], OWN).outcome == Outcome.FAIL
    assert checks.cross_account_copy(True, [], OWN).outcome == Outcome.FAIL
    assert checks.cross_account_copy(False, [], OWN).outcome == Outcome.NOT_REQUIRED


def test_cross_account_is_unknown_when_no_export_names_its_bucket_owner_or_the_account_is_unknown() -> None:
    unknown_owner = checks.cross_account_copy(True, [export("e", 1)], OWN)
    assert unknown_owner.outcome == Outcome.UNKNOWN and "owner=" in unknown_owner.reason
    assert checks.cross_account_copy(True, [export("e", 1, owner=VAULT)], None).outcome == Outcome.UNKNOWN


def test_a_recent_passed_drill_within_the_rto_proves_the_restore_even_after_a_newer_failed_one() -> None:
    drills = [drill("d-failed", DrillStatus.FAILED, 1), drill("d-ok", DrillStatus.PASSED, 5, seconds=3000)]
    result = checks.restore_proven(timedelta(days=30), timedelta(hours=1), drills, NOW)
    assert result.outcome == Outcome.PASS and result.proof.drill_id == "d-ok" and result.proof.export_id == "e-1"
    assert result.target == "within 30d, restored in 1h at most" and "50m 00s" in result.reason


@pytest.mark.parametrize(
    ("drills", "reason"),
    [
        ([], "no restore drill has passed"),
        ([drill("d-old", DrillStatus.PASSED, 40)], "too long ago"),
        ([drill("d-slow", DrillStatus.PASSED, 2, seconds=7300)], "longer than the RTO"),
        ([drill("d-bad", DrillStatus.FAILED, 1)], "no restore drill has passed"),
    ],
)
def test_restore_proven_fails_without_a_recent_passed_drill_within_the_rto(drills: list[Drill], reason: str) -> None:
    result = checks.restore_proven(timedelta(days=30), timedelta(hours=2), drills, NOW)
    assert result.outcome == Outcome.FAIL and reason in result.reason


def test_a_drill_that_did_not_time_its_restore_leaves_the_rto_unknown() -> None:
    result = checks.restore_proven(None, timedelta(hours=2), [drill("d-1", DrillStatus.PASSED, 1, seconds=None)], NOW)
    assert result.outcome == Outcome.UNKNOWN and result.proof.drill_id == "d-1"
    assert checks.restore_proven(None, None, [], NOW).outcome == Outcome.NOT_REQUIRED


@pytest.mark.parametrize(
    ("kept", "outcome"),
    [
        (Kept(), Outcome.PASS),  # nothing expires
        (Kept(expiration_days=35), Outcome.PASS),
        (Kept(expiration_days=7), Outcome.FAIL),
        (Kept(expiration_days=7, object_lock_mode="COMPLIANCE", object_lock_days=40), Outcome.PASS),
        (Kept(problem="the bot's role may not read the bucket's lifecycle rules"), Outcome.UNKNOWN),
    ],
)
def test_retention_reads_the_lifecycle_expiration_and_the_object_lock_days(kept: Kept, outcome: Outcome) -> None:
    result = checks.retention(timedelta(days=35), export("e-1", 1), kept)
    assert result.outcome == outcome and result.proof.location == "s3://acme-backups/ddb/"
    assert result.target == "at least 35 days"


def test_retention_fails_without_an_export_and_is_not_required_without_a_target() -> None:
    assert checks.retention(timedelta(days=1), None, None).outcome == Outcome.FAIL
    assert checks.retention(None, export("e", 1), Kept(expiration_days=1)).outcome == Outcome.NOT_REQUIRED


@pytest.mark.parametrize(
    ("kept", "outcome"),
    [
        (Kept(object_lock_mode="GOVERNANCE", object_lock_days=30), Outcome.PASS),
        (Kept(), Outcome.FAIL),
        (Kept(object_lock_mode="COMPLIANCE", object_lock_days=0), Outcome.FAIL),
        (Kept(problem="AccessDenied"), Outcome.UNKNOWN),
    ],
)
def test_an_immutable_copy_needs_object_lock_with_a_default_retention(kept: Kept, outcome: Outcome) -> None:
    assert checks.immutability(True, export("e-1", 1), kept).outcome == outcome
    assert checks.immutability(False, export("e-1", 1), kept).outcome == Outcome.NOT_REQUIRED


def test_a_target_span_is_written_as_the_config_file_writes_it() -> None:
    spans = (timedelta(hours=24), timedelta(days=1, hours=12), timedelta(minutes=90), timedelta(days=35))
    assert [checks.span(s) for s in spans] == ["1d", "1d12h", "1h30m", "35d"]


def test_a_passed_pitr_drill_proves_the_restore_and_says_it_came_from_pitr() -> None:
    from_pitr = drill("d-pitr", DrillStatus.PASSED, 2, seconds=600)
    moment = NOW - timedelta(days=3)
    from_pitr = replace(from_pitr, spec=replace(from_pitr.spec, export=None, pitr_at=moment))
    result = checks.restore_proven(timedelta(days=30), timedelta(hours=1), [from_pitr], NOW)
    assert result.outcome == Outcome.PASS and result.proof.drill_id == "d-pitr" and result.proof.export_id is None
    assert "PITR drill (as of 2026-02-26T12:00:00Z) passed" in result.reason
