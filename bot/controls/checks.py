"""Each control judged from what was read: the table's completed exports (newest first), its drills, and what its
backup bucket keeps. Pure functions, so each outcome is tested without AWS."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.catalog.models import CatalogEntry
from bot.controls.models import Control, ControlResult, Keeping, Outcome, Proof
from bot.drills.models import Drill, DrillStatus
from bot.timefmt import duration, iso
from bot.words import plural

NOT_REQUIRED = "no target in the config file"


def span(value: timedelta) -> str:
    """A target span as the config file writes it: 24h, 35d, 1d12h, 90m."""
    days, seconds = value.days, value.seconds
    hours, minutes = divmod(seconds // 60, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"


def export_proof(entry: CatalogEntry) -> Proof:
    """An export as proof: its id, ARN, moment and where its files are."""
    prefix = f"{entry.prefix.strip('/')}/" if entry.prefix else ""
    return Proof(
        export_id=entry.export_id,
        export_arn=entry.export_arn,
        at=entry.as_of,
        location=f"s3://{entry.bucket}/{prefix}",
    )


def backup_frequency(every: timedelta | None, exports: Sequence[CatalogEntry], now: datetime) -> ControlResult:
    """A completed full or incremental export no older than `every`."""
    if every is None:
        return ControlResult(Control.BACKUP_EVERY, "", Outcome.NOT_REQUIRED, NOT_REQUIRED)
    target = f"every {span(every)}"
    if not exports:
        return ControlResult(Control.BACKUP_EVERY, target, Outcome.FAIL, "no completed export is known")
    newest = exports[0]
    proof = export_proof(newest)
    age = now - newest.as_of if newest.as_of else None
    if age is None:
        return ControlResult(Control.BACKUP_EVERY, target, Outcome.UNKNOWN, "the newest export has no time", proof)
    said = f"newest export {iso(newest.as_of)} ({_ago(age)} ago)"
    outcome = Outcome.PASS if age <= every else Outcome.FAIL
    return ControlResult(Control.BACKUP_EVERY, target, outcome, said, proof)


def cross_account_copy(required: bool, exports: Sequence[CatalogEntry], account: str | None) -> ControlResult:
    """An export in a bucket owned by another account than the table's (the owner the export was given)."""
    if not required:
        return ControlResult(Control.CROSS_ACCOUNT, "", Outcome.NOT_REQUIRED, NOT_REQUIRED)
    target = "required"
    if not exports:
        return ControlResult(Control.CROSS_ACCOUNT, target, Outcome.FAIL, "no completed export is known")
    if account is None:
        reason = "the table's own account could not be learnt"
        return ControlResult(Control.CROSS_ACCOUNT, target, Outcome.UNKNOWN, reason)
    elsewhere = next((e for e in exports if e.bucket_owner and e.bucket_owner != account), None)
    if elsewhere is not None:
        said = f"export in s3://{elsewhere.bucket}, owned by account {elsewhere.bucket_owner}"
        return ControlResult(Control.CROSS_ACCOUNT, target, Outcome.PASS, said, export_proof(elsewhere))
    if any(e.bucket_owner for e in exports):
        reason = "every export whose bucket owner is known lies in the table's own account"
        return ControlResult(Control.CROSS_ACCOUNT, target, Outcome.FAIL, reason, export_proof(exports[0]))
    reason = "no export names its bucket's owner (export with owner=<account id>)"
    return ControlResult(Control.CROSS_ACCOUNT, target, Outcome.UNKNOWN, reason, export_proof(exports[0]))


def restore_proven(
    within: timedelta | None, rto: timedelta | None, drills: Sequence[Drill], now: datetime
) -> ControlResult:
    """The newest passed restore drill no older than `within`, and its restore no longer than `rto`."""
    if within is None and rto is None:
        return ControlResult(Control.RESTORE_PROVEN, "", Outcome.NOT_REQUIRED, NOT_REQUIRED)
    target = ", ".join(
        [*([f"within {span(within)}"] if within else []), *([f"restored in {span(rto)} at most"] if rto else [])]
    )
    passed = next((d for d in drills if d.status == DrillStatus.PASSED), None)
    if passed is None:
        return ControlResult(Control.RESTORE_PROVEN, target, Outcome.FAIL, "no restore drill has passed")
    when = passed.finished_at or passed.created_at
    export = passed.spec.export  # None for a drill restored from PITR
    proof = Proof(export_id=export.export_id if export else None, drill_id=passed.id, at=when)
    took = passed.result.recovery_seconds
    kind = f"PITR drill (as of {iso(passed.spec.pitr_at)})" if passed.spec.pitr_at else "drill"
    said = f"{kind} passed {iso(when)}" + (f", restored in {duration(took)}" if took is not None else "")
    if within is not None and (when is None or now - when > within):
        return ControlResult(Control.RESTORE_PROVEN, target, Outcome.FAIL, f"last {said}: too long ago", proof)
    if rto is not None and took is None:
        reason = f"{said}; it did not record how long the restore took"
        return ControlResult(Control.RESTORE_PROVEN, target, Outcome.UNKNOWN, reason, proof)
    if rto is not None and took is not None and took > rto.total_seconds():
        return ControlResult(Control.RESTORE_PROVEN, target, Outcome.FAIL, f"{said}: longer than the RTO", proof)
    return ControlResult(Control.RESTORE_PROVEN, target, Outcome.PASS, said, proof)


def retention(keep: timedelta | None, newest: CatalogEntry | None, keeping: Keeping | None) -> ControlResult:
    """The bucket of the newest export keeps it at least `keep`: no lifecycle expiration, or one at least that
    long, or an Object Lock default retention at least that long (S3 cannot delete a locked version sooner)."""
    if keep is None:
        return ControlResult(Control.RETENTION, "", Outcome.NOT_REQUIRED, NOT_REQUIRED)
    target = f"at least {plural(keep.days, 'day')}"
    if newest is None or keeping is None or keeping.problem is not None:
        return _bucket_not_judged(Control.RETENTION, target, newest, keeping)
    proof = export_proof(newest)
    expires, locked = keeping.expiration_days, keeping.object_lock_days or 0
    if expires is None:
        return ControlResult(Control.RETENTION, target, Outcome.PASS, "no lifecycle rule expires the exports", proof)
    said = f"lifecycle expires exports after {plural(expires, 'day')}" + (
        f", Object Lock keeps them {plural(locked, 'day')}" if locked else ""
    )
    outcome = Outcome.PASS if max(expires, locked) >= keep.days else Outcome.FAIL
    return ControlResult(Control.RETENTION, target, outcome, said, proof)


def immutability(required: bool, newest: CatalogEntry | None, keeping: Keeping | None) -> ControlResult:
    """The bucket of the newest export locks new objects (Object Lock default retention: a mode and days)."""
    if not required:
        return ControlResult(Control.IMMUTABLE, "", Outcome.NOT_REQUIRED, NOT_REQUIRED)
    target = "Object Lock"
    if newest is None or keeping is None or keeping.problem is not None:
        return _bucket_not_judged(Control.IMMUTABLE, target, newest, keeping)
    proof = export_proof(newest)
    if keeping.object_lock_mode and keeping.object_lock_days:
        said = f"Object Lock {keeping.object_lock_mode}, {plural(keeping.object_lock_days, 'day')} by default"
        return ControlResult(Control.IMMUTABLE, target, Outcome.PASS, said, proof)
    return ControlResult(Control.IMMUTABLE, target, Outcome.FAIL, "the bucket has no Object Lock retention", proof)


def _bucket_not_judged(
    control: Control, target: str, newest: CatalogEntry | None, keeping: Keeping | None
) -> ControlResult:
    """A bucket control with nothing to judge: FAIL without an export (no copy to keep), UNKNOWN when its bucket
    could not be read (with why)."""
    if newest is None:
        return ControlResult(control, target, Outcome.FAIL, "no completed export is known")
    reason = keeping.problem if keeping is not None and keeping.problem else "the bucket was not read"
    return ControlResult(control, target, Outcome.UNKNOWN, reason, export_proof(newest))


def _ago(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:,.1f} days" if hours >= 48 else f"{hours:,.1f} h"
