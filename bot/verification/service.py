"""`/ddb-verify`'s use cases: find the export however it was named, queue its verification, show the last one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.aws.accounts import Place
from bot.core import Core
from bot.errors import PreconditionFailed
from bot.models import ExportFormat, ExportStatus, Requester
from bot.restores.sources import ResolvedExport, resolve_export
from bot.verification.models import ExportTarget, Verification, new_verification_id
from bot.verification.store import VerificationStore


@dataclass(frozen=True)
class Verifications:
    """What the Slack surface needs: the core, the store, and a way to wake the runner."""

    core: Core
    store: VerificationStore
    wake: Callable[[], None] = lambda: None


def queue_verification(
    verifications: Verifications, text: str, owner: str | None, requester: Requester
) -> Verification:
    """Resolve the export (id, ARN or S3 URL, as restores do), check it can be verified, and queue it."""
    source = resolve_export(verifications.core, text, owner)
    require_verifiable(source)
    target = export_target(verifications.core, source, text)
    queued = verifications.store.create(
        Verification(new_verification_id(), target, requester.user_id, requester.channel_id)
    )
    verifications.wake()
    return queued


def export_target(core: Core, source: ResolvedExport, label: str) -> ExportTarget:
    """How the runner finds and reads the export again; its ARN when the bot recorded it (its reference applies)."""
    place = _read_place(core, source)
    return ExportTarget(
        export_id=source.export_id,
        export_arn=source.plan_source if source.plan_source.startswith("arn:") else _known_arn(core, source),
        bucket=source.bucket,
        prefix=source.s3_prefix or None,
        bucket_owner=source.bucket_owner,
        export_type=source.export_type,
        read_alias=place.alias,
        read_region=place.region,
        label=label[:200],
        key_names=key_names(source.snapshot),
    )


def last_verification(verifications: Verifications, export_id: str) -> Verification | None:
    """The newest verification of an export, for /ddb-status."""
    return verifications.store.last_for_export(export_id)


def key_names(snapshot: dict[str, Any]) -> tuple[str, ...]:
    """The key attributes from a DescribeTable snapshot, partition key first; () when it has none."""
    schema = snapshot.get("KeySchema") or []
    ordered = sorted(schema, key=lambda k: 0 if k.get("KeyType") == "HASH" else 1)
    return tuple(str(k["AttributeName"]) for k in ordered if k.get("AttributeName"))


def require_verifiable(source: ResolvedExport) -> None:
    if source.status != ExportStatus.COMPLETED:
        state = "is still running" if source.status == ExportStatus.IN_PROGRESS else "failed"
        raise PreconditionFailed(
            f"Export `{source.export_id}` {state}, so there is nothing complete to verify. Nothing was queued.",
            "Verify it once `/ddb-status` shows it COMPLETED.",
        )
    if source.export_format != ExportFormat.DYNAMODB_JSON:
        raise PreconditionFailed(
            f"Export `{source.export_id}` is in {source.export_format} format; only DYNAMODB_JSON exports can be "
            "verified line by line. Nothing was queued."
        )


def _known_arn(core: Core, source: ResolvedExport) -> str | None:
    """An export named by URL is the bot's own when its record points at that folder: its reference applies."""
    job = core.store.find_export(source.export_id)
    return job.export_arn if job is not None and job.location.url == source.location.url else None


def _read_place(core: Core, source: ResolvedExport) -> Place:
    return source.read_place or source.source_place or Place(None, core.aws.default_region)
