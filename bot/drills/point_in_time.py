"""One restore drill from point-in-time recovery: RestoreTableToPointInTime of the source as of the drill's moment into
the tagged throwaway table, proved like an export drill (key schema, attribute definitions and indexes against the
source's; the item count and a sample, attribute for attribute, against the export of that very moment when the bot
knows one), timed, and its table left to `clean_up`.

RestoreTableToPointInTime takes no ClientToken: the drill table's name is the idempotency key. Before asking, and
when AWS answers TableAlreadyExistsException, DescribeTable of that name says whether the table is this drill's own
restore (RestoreSummary names the source): then it is followed, never restored twice. Queuing refuses a second drill
of the same table name (bot.drills.service), so a table of that name restored from the source is this drill's.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.drills.drill import (
    DrillContext,
    DrillFailed,
    guarded,
    judge,
    schema_difference,
    tag_drill_table,
    timed,
    unverified,
    verify_target,
)
from bot.drills.models import Drill, DrillResult, DrillSpec
from bot.restores.outcome import ItemsDone
from bot.timefmt import iso
from bot.verification.sample import Reservoir
from bot.verification.stream import Halted
from bot.verification.verify import VerifyOutcome

logger = logging.getLogger(__name__)
COUNTED = "counted in the drill table (Scan)"


def prove_pitr_drill(drill: Drill, ctx: DrillContext) -> DrillResult:
    """The PITR drill up to its proof (its table left for `clean_up`); raises Halted when the claim is lost or the
    bot stops (the next holder resumes it, following the restore already asked for)."""
    spec = drill.spec
    client: Any = ctx.core.aws.dynamodb(Place(spec.account_alias, spec.region))
    reservoir = Reservoir(spec.sample_size)
    outcome = verify_target(spec.export, ctx, reservoir) if spec.export is not None else None
    if outcome is not None and not outcome.ok:
        return unverified(outcome, spec, "nothing was restored")

    def steps() -> DrillResult:
        if not drill.import_arn:
            _start_restore(client, drill, ctx)
        table = _wait_for_table(client, drill, ctx)
        problem = schema_difference(spec.table_snapshot, table) or _definitions_difference(spec.table_snapshot, table)
        counted = ItemsDone(count_items(client, spec.drill_table, ctx), COUNTED)
        result = _judged(client, spec, outcome, counted, reservoir, problem)
        return timed(result, drill, ctx.now())

    return guarded(DrillResult(items_expected=outcome.items if outcome else None), steps)


def _judged(
    client: Any,
    spec: DrillSpec,
    outcome: VerifyOutcome | None,
    counted: ItemsDone,
    reservoir: Reservoir,
    problem: str | None,
) -> DrillResult:
    """Against the export of that moment as an export drill is judged; without one, only the schema can fail and
    the count is reported as counted, compared with nothing."""
    if spec.export is None or outcome is None:
        return DrillResult(items_imported=counted.count, failure=problem)
    judged = judge(client, spec, spec.export, outcome, counted, reservoir, problem)
    return replace(judged, compared_with=spec.export.export_id)


def _start_restore(client: Any, drill: Drill, ctx: DrillContext) -> None:
    """RestoreTableToPointInTime once: a table of the drill's name restored from the source is this drill's own
    (an earlier holder asked and stopped before recording it), followed instead of asked for again."""
    spec = drill.spec
    ref, place = ctx.core.table(spec.table_key)
    source_arn = ctx.core.table_info(ref, place).arn
    table = _described(client, spec.drill_table)
    if table is None:
        table = _restore(client, spec, ref.name, source_arn)
        logger.info("drill.pitr_restore_started", extra={"drill_table": spec.drill_table})
    elif _restored_from(table) != source_arn:
        raise DrillFailed(
            f"a table named `{spec.drill_table}` exists already and is not a restore of `{spec.table_key}`; the bot "
            "restored nothing into it"
        )
    else:
        logger.info("drill.pitr_restore_adopted", extra={"drill_table": spec.drill_table})
    ctx.record_import(str(table["TableArn"]))


def _restore(client: Any, spec: DrillSpec, source_name: str, source_arn: str) -> dict[str, Any]:
    """Ask for the restore (on-demand, as export drills' tables are); TableAlreadyExistsException from a call
    that reached AWS before is this drill's table when it was restored from the source."""
    params: dict[str, Any] = {
        "SourceTableName": source_name,
        "TargetTableName": spec.drill_table,
        "RestoreDateTime": spec.pitr_at,
        "BillingModeOverride": "PAY_PER_REQUEST",
    }
    try:
        return dict(client.restore_table_to_point_in_time(**params)["TableDescription"])
    except ClientError as exc:
        if error_code(exc) == "TableAlreadyExistsException":
            table = _described(client, spec.drill_table)
            if table is not None and _restored_from(table) == source_arn:
                return table
        if error_code(exc) == "PointInTimeRecoveryUnavailableException":
            raise DrillFailed(
                f"point-in-time recovery of `{spec.table_key}` was turned off after the drill was queued"
            ) from exc
        if error_code(exc) == "InvalidRestoreTimeException":
            raise DrillFailed(
                f"{iso(spec.pitr_at)} left the PITR window of `{spec.table_key}` before the restore was asked for"
            ) from exc
        raise translate(exc, "dynamodb:RestoreTableToPointInTime", f"Table `{spec.table_key}`") from exc
    except Exception as exc:
        raise translate(exc, "dynamodb:RestoreTableToPointInTime", f"Table `{spec.table_key}`") from exc


def _restored_from(table: dict[str, Any]) -> str | None:
    return dict(table.get("RestoreSummary") or {}).get("SourceTableArn")


def _described(client: Any, name: str) -> dict[str, Any] | None:
    """DescribeTable of `name`; None when there is no such table."""
    try:
        return dict(client.describe_table(TableName=name)["Table"])
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise translate(exc, "dynamodb:DescribeTable", f"Drill table `{name}`") from exc
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeTable", f"Drill table `{name}`") from exc


def _wait_for_table(client: Any, drill: Drill, ctx: DrillContext) -> dict[str, Any]:
    """Follow the restore until the table is ACTIVE with no restore in progress, tagging it as soon as it exists
    (its deletion checks the tag)."""
    tagged = False
    while True:
        if ctx.halt.is_set():
            raise Halted
        table = _described(client, drill.spec.drill_table)
        if table is None:
            raise DrillFailed("the drill table was deleted before it could be checked")
        tagged = tagged or tag_drill_table(client, table.get("TableArn"), drill.id)
        restoring = dict(table.get("RestoreSummary") or {}).get("RestoreInProgress")
        if table.get("TableStatus") == "ACTIVE" and not restoring and tagged:
            return table
        ctx.wait()


def count_items(client: Any, name: str, ctx: DrillContext) -> int:
    """The drill table's items, counted exactly (Scan with Select=COUNT, consistent, page by page): DescribeTable's
    ItemCount is refreshed only about every six hours, so a new table's is no count at all."""
    total, start = 0, None
    while True:
        if ctx.halt.is_set():
            raise Halted
        params: dict[str, Any] = {"TableName": name, "Select": "COUNT", "ConsistentRead": True}
        if start:
            params["ExclusiveStartKey"] = start
        try:
            page = client.scan(**params)
        except Exception as exc:
            raise translate(exc, "dynamodb:Scan", f"Drill table `{name}`") from exc
        total += int(page.get("Count", 0))
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def _definitions_difference(snapshot: dict[str, Any], table: dict[str, Any]) -> str | None:
    """Attribute definitions and local secondary indexes, which a point-in-time restore carries over (an import
    creates only what the drill asks for, so export drills check the key schema and GSIs alone)."""

    def definitions(found: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
        return sorted((d["AttributeName"], d["AttributeType"]) for d in found or [])

    def indexes(found: list[dict[str, Any]] | None) -> dict[str, list[tuple[str, str]]]:
        return {i["IndexName"]: sorted((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]) for i in found or []}

    if definitions(snapshot.get("AttributeDefinitions")) != definitions(table.get("AttributeDefinitions")):
        return "the restored table's attribute definitions differ from the source's"
    if indexes(snapshot.get("LocalSecondaryIndexes")) != indexes(table.get("LocalSecondaryIndexes")):
        return "the restored table's local secondary indexes differ from the source's"
    return None
