"""One restore drill from an export: verify the export (drawing the sample in the same pass), ImportTable it into a
tagged throwaway table, prove the table matches (key schema and GSIs, item count, a sample read back attribute for
attribute), measure the recovery time, and delete the throwaway table (also when the drill fails) unless kept.

Nothing here writes to the source table or to any table but the drill's own; deletion goes through
`delete_drill_table`, which refuses any table without the drill's name pattern and tag. Once the import is asked
for, the drill table may exist: whatever happens then (a check failing, AWS refusing or throttling a call, a bug),
the table is deleted, or the result says it was left behind and how to delete it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.core import Core
from bot.drills.models import Drill, DrillResult, DrillSpec
from bot.drills.readback import compare_sample
from bot.drills.tables import DRILL_TAG, delete_drill_table
from bot.errors import BotError
from bot.exports.files import read_manifest
from bot.exports.reference import ReferenceStore
from bot.loader.lines import ExportLineReader
from bot.restores.outcome import ItemsDone, ItemsPromised, check_outcome, imported_items
from bot.restores.schema import schema_from_description
from bot.verification.models import ExportTarget
from bot.verification.sample import Reservoir
from bot.verification.stream import Halted
from bot.verification.verify import VerifyOutcome, verify_export
from bot.words import plural

logger = logging.getLogger(__name__)
IMPORT_OBJECTS_LIMIT = 50_000
SHOWN_DIFFERENCES = 5


@dataclass(frozen=True)
class DrillContext:
    """What a running drill needs from its runner: the claim (halt, and how to record the import under it), and how
    to wait."""

    core: Core
    references: ReferenceStore
    halt: threading.Event
    record_import: Callable[[str], None]  # raises Halted when the claim is lost
    wait: Callable[[], None]  # one poll interval, or until halted
    now: Callable[[], datetime]


class DrillFailed(Exception):
    """A check of the drill failed; the message says which, in words the team reads."""


def prove_drill(drill: Drill, ctx: DrillContext) -> DrillResult:
    """The drill up to its proof (its table left for `clean_up`); raises Halted when the claim is lost or the bot
    stops (the next holder resumes it)."""
    spec = drill.spec
    client: Any = ctx.core.aws.dynamodb(Place(spec.account_alias, spec.region))
    if spec.export is None:
        return DrillResult(failure="the drill names no export to import", proved=True)
    reservoir = Reservoir(spec.sample_size)
    outcome = verify_target(spec.export, ctx, reservoir)
    if not outcome.ok:
        return unverified(outcome, spec, "nothing was imported")
    target = spec.export

    def steps() -> DrillResult:
        import_arn = drill.import_arn or _start_import(client, drill, target, ctx)
        imported = _wait_for_import(client, drill, import_arn, ctx)
        schema_problem = schema_difference(spec.table_snapshot, drill_table(client, spec.drill_table))
        done = imported_items(imported)
        result = judge(client, spec, target, outcome, done, reservoir, schema_problem)
        return timed(result, drill, ctx.now())

    return guarded(DrillResult(items_expected=outcome.items), steps)


def guarded(result: DrillResult, steps: Callable[[], DrillResult]) -> DrillResult:
    """Run the steps after which the drill table may exist: whatever fails (a check, AWS, a bug) becomes the drill's
    failure, so its table is still cleaned up; Halted passes (the next holder resumes the drill)."""
    try:
        result = steps()
    except Halted:
        raise  # the claim is lost or the bot stops: the next runner resumes the drill, and cleans up after it
    except (BotError, DrillFailed) as error:
        result = _with(result, failure=str(getattr(error, "message", error)))
    except Exception:  # whatever broke, the throwaway table must not outlive the drill
        reference = uuid.uuid4().hex[:8]
        logger.exception("drill.step_failed", extra={"reference": reference})
        result = _with(result, failure=f"something went wrong on the bot's side (reference {reference})")
    return _with(result, proved=True)


def clean_up(ctx: DrillContext, drill: Drill, result: DrillResult) -> DrillResult:
    """Delete the throwaway table (unless kept) once the proof is recorded: a holder that takes the drill over after
    that finds the table gone and the proof kept, instead of waiting for a table that no longer exists."""
    client: Any = ctx.core.aws.dynamodb(Place(drill.spec.account_alias, drill.spec.region))
    return _clean_up(client, drill, result)


def unverified(outcome: VerifyOutcome, spec: DrillSpec, note: str) -> DrillResult:
    """The drill's export failed verification: the first problems named, nothing restored."""
    named = "; ".join(f"{f.file}: {f.problem}" for f in outcome.failures[:3])
    return DrillResult(
        failure=f"the export failed verification ({plural(outcome.failure_count, 'problem')}): {named}",
        items_expected=spec.expected_items,
        notes=(note,),
    )


def timed(result: DrillResult, drill: Drill, now: datetime) -> DrillResult:
    """The recovery time, request to verified; over the target (`rto=`) fails a drill that passed otherwise."""
    if drill.created_at is None:
        return result
    recovery = (now - drill.created_at).total_seconds()
    result = _with(result, recovery_seconds=recovery)
    target = drill.spec.rto_seconds
    if result.failure is None and target is not None and recovery > target:
        return _with(result, failure=f"recovery took {recovery:.0f} s, over the target of {target:.0f} s")
    return result


def verify_target(target: ExportTarget, ctx: DrillContext, reservoir: Reservoir) -> VerifyOutcome:
    """Verify the drill's export (checksums, manifests, item count), drawing the sample in the same pass."""
    s3 = ctx.core.aws.s3(Place(target.read_alias, target.read_region))
    reference = ctx.references.get(target.export_arn) if target.export_arn else None

    def progress(_progress: Any) -> None:
        if ctx.halt.is_set():
            raise Halted

    return verify_export(
        s3,
        target.location,
        reference,
        ExportLineReader(target.key_names),
        on_progress=progress,
        halt=ctx.halt,
        on_line=reservoir.offer,
    )


def _start_import(client: Any, drill: Drill, target: ExportTarget, ctx: DrillContext) -> str:
    spec = drill.spec
    s3 = ctx.core.aws.s3(Place(target.read_alias, target.read_region))
    manifest = read_manifest(s3, target.location)
    if len(manifest.files) > IMPORT_OBJECTS_LIMIT:
        raise DrillFailed(f"the export has {len(manifest.files):,} files; ImportTable reads at most 50,000 objects")
    folders = {f.key.rsplit("/", 1)[0] + "/" for f in manifest.files}
    if len(folders) != 1:
        raise DrillFailed(f"the export's data files are in {len(folders)} folders; ImportTable reads one")
    schema = schema_from_description(spec.table_snapshot, "the schema recorded with the export")
    creation: dict[str, Any] = {
        "TableName": spec.drill_table,
        "AttributeDefinitions": schema.attribute_definitions,
        "KeySchema": schema.key_schema,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if schema.gsis:
        creation["GlobalSecondaryIndexes"] = [
            {k: v for k, v in gsi.items() if k != "ProvisionedThroughput"} for gsi in schema.gsis
        ]
    source: dict[str, Any] = {"S3Bucket": target.bucket, "S3KeyPrefix": folders.pop()}
    if target.bucket_owner:
        source["S3BucketOwner"] = target.bucket_owner
    try:
        description = client.import_table(
            ClientToken=f"ddb-backup-bot-{drill.id}",
            S3BucketSource=source,
            InputFormat="DYNAMODB_JSON",
            InputCompressionType="GZIP",
            TableCreationParameters=creation,
        )["ImportTableDescription"]
    except ClientError as exc:
        if error_code(exc) == "LimitExceededException":
            raise DrillFailed("DynamoDB's limit of 50 concurrent imports in the account is reached") from exc
        raise translate(exc, "dynamodb:ImportTable", f"Drill table `{spec.drill_table}`") from exc
    except Exception as exc:
        raise translate(exc, "dynamodb:ImportTable", f"Drill table `{spec.drill_table}`") from exc
    import_arn = str(description["ImportArn"])
    ctx.record_import(import_arn)
    return import_arn


def _wait_for_import(client: Any, drill: Drill, import_arn: str, ctx: DrillContext) -> dict[str, Any]:
    """Follow the import to COMPLETED, tagging the new table as soon as it exists, then wait for it to be ACTIVE."""
    tagged = False
    while True:
        if ctx.halt.is_set():
            raise Halted
        try:
            description: dict[str, Any] = client.describe_import(ImportArn=import_arn)["ImportTableDescription"]
        except Exception as exc:
            raise translate(exc, "dynamodb:DescribeImport", f"Drill table `{drill.spec.drill_table}`") from exc
        tagged = tagged or tag_drill_table(client, description.get("TableArn"), drill.id)
        status = description.get("ImportStatus")
        if status == "COMPLETED" and tagged and _active(client, drill.spec.drill_table):
            return description
        if status == "COMPLETED" and _gone(client, drill.spec.drill_table):
            raise DrillFailed("the drill table was deleted before it could be checked")
        if status in {"FAILED", "CANCELLED", "CANCELLING"}:
            code = description.get("FailureCode") or status
            raise DrillFailed(f"ImportTable {status}: {code} {description.get('FailureMessage') or ''}".strip())
        ctx.wait()


def tag_drill_table(dynamodb: Any, table_arn: str | None, drill_id: str) -> bool:
    """Tag the new table with the drill's id (what its deletion checks); False while it cannot be tagged yet."""
    if not table_arn:
        return False
    try:
        dynamodb.tag_resource(ResourceArn=table_arn, Tags=[{"Key": DRILL_TAG, "Value": drill_id}])
    except Exception:
        logger.info("drill.table_not_taggable_yet", extra={"table_arn": table_arn})
        return False
    return True


def _gone(client: Any, name: str) -> bool:
    try:
        client.describe_table(TableName=name)
    except ClientError as exc:
        return error_code(exc) == "ResourceNotFoundException"
    except Exception:
        return False
    return False


def _active(client: Any, name: str) -> bool:
    try:
        return bool(client.describe_table(TableName=name)["Table"].get("TableStatus") == "ACTIVE")
    except Exception:
        return False


def judge(
    client: Any,
    spec: DrillSpec,
    target: ExportTarget,
    outcome: VerifyOutcome,
    done: ItemsDone,
    reservoir: Reservoir,
    schema_problem: str | None,
) -> DrillResult:
    """The restores' outcome check (items verified in the export against items in the drill table, none rejected),
    then the sample read back; the schema's difference, the count's and the sample's, first found first."""
    check = check_outcome(ItemsPromised(outcome.items, "the export, counted as it was verified"), done)
    sample = reservoir.items()
    differences = compare_sample(client, spec.drill_table, target.key_names, sample)
    result = DrillResult(
        items_expected=outcome.items,
        items_imported=done.count,
        sample_compared=len(sample),
        differences=tuple(differences[:SHOWN_DIFFERENCES]),
        difference_count=len(differences),
    )
    if schema_problem:
        return _with(result, failure=schema_problem)
    if check.partial:
        return _with(result, failure="; ".join(check.reasons))
    if differences:
        return _with(result, failure=f"{len(differences):,} of {len(sample):,} sampled items differ")
    return result


def drill_table(client: Any, name: str) -> dict[str, Any]:
    """DescribeTable of the drill table, translated."""
    try:
        return dict(client.describe_table(TableName=name)["Table"])
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeTable", f"Drill table `{name}`") from exc


def schema_difference(snapshot: dict[str, Any], table: dict[str, Any]) -> str | None:
    """What differs between the source's recorded key schema and GSIs and the drill table's (None: nothing)."""

    def keys(schema: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
        return sorted((k["AttributeName"], k["KeyType"]) for k in schema or [])

    if keys(snapshot.get("KeySchema")) != keys(table.get("KeySchema")):
        return "the restored table's key schema differs from the source's"
    wanted = {g["IndexName"]: keys(g["KeySchema"]) for g in snapshot.get("GlobalSecondaryIndexes") or []}
    found = {g["IndexName"]: keys(g["KeySchema"]) for g in table.get("GlobalSecondaryIndexes") or []}
    if wanted != found:
        return "the restored table's global secondary indexes differ from the source's"
    return None


def _clean_up(client: Any, drill: Drill, result: DrillResult) -> DrillResult:
    if drill.spec.keep:
        return _with(result, kept=True)
    try:
        delete_drill_table(client, drill.spec.drill_table, drill.id)
    except BotError as error:
        if "not found" in error.message.lower() or "does not exist" in error.message.lower():
            # nothing was created, or an earlier holder deleted it after the import
            return _with(result, deleted=True) if drill.import_arn else result
        return _left_behind(drill, result, error.message)
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("drill.table_not_deleted", extra={"reference": reference})
        return _left_behind(drill, result, f"something went wrong on the bot's side (reference {reference})")
    return _with(result, deleted=True)


def _left_behind(drill: Drill, result: DrillResult, why: str) -> DrillResult:
    """The table outlives the drill: say so plainly, with the command that deletes it and why the bot could not."""
    table, region = drill.spec.drill_table, drill.spec.region
    command = f"aws dynamodb delete-table --table-name {table} --region {region}"
    note = f"left behind: `{table}` — delete it with `{command}` (the bot could not: {why})"
    return _with(result, left_behind=True, notes=(*result.notes, note))


def _with(result: DrillResult, **changes: Any) -> DrillResult:
    return replace(result, **changes)
